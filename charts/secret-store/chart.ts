/**
 * The region's External Secrets store (dist/<region>/secret-store.yaml): the ClusterSecretStore
 * every ExternalSecret of the region reads through (global.secretStore), backed by Vault.
 *
 * Why a file of its own, synced by the External Secrets Application and not by the region's: the
 * store must exist before the first ExternalSecret, and the first ones come long before the
 * region Application (Grafana's admin Secret with kube-prometheus-stack, the mesh CA before
 * istiod). The store's CRD arrives with External Secrets itself, so nothing outside Argo CD can
 * create it first. The external-secrets add-on (charts/argocd/addon-catalog.ts) syncs this file
 * beside its chart, one wave after the chart's objects: Argo CD applies it once External Secrets'
 * Deployments (its validating webhook among them) are healthy. The region Application leaves
 * the file out (charts/argocd/chart.ts), so one Application owns it.
 *
 * External Secrets logs in to Vault with its own ServiceAccount's token (TokenRequest) through a
 * Kubernetes auth method mounted per cluster, since each cluster issues its own tokens. Vault
 * checks that token with the cluster's TokenReview API using the token itself (no reviewer JWT
 * is configured on the mount), which needs system:auth-delegator: bound here, a wave before the
 * store, so the first login succeeds.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ClusterSecretStoreV1Beta1, ClusterSecretStoreV1Beta1SpecProviderVaultVersion } from '../../imports/clustersecretstore-external-secrets.io';
import { appLabels } from '../lib/metadata';
import { EXTERNAL_SECRETS_IDENTITY, SECRET_STORE_COMPONENT, vaultAuthMountPath } from '../lib/secret-store';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

/** Sync wave of the store inside the External Secrets Application: after the chart's objects (0). */
const SECRET_STORE_SYNC_WAVE = 1;

/** Sync wave of the TokenReview binding: with the chart's objects, before the store. */
const TOKEN_REVIEW_SYNC_WAVE = 0;

export class SecretStoreChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, SECRET_STORE_COMPONENT, props);
    const { plan } = this;
    const { name, vault } = plan.global.secretStore;
    new k8s.KubeClusterRoleBinding(this, 'token-review', {
      metadata: {
        name: `${plan.global.platform.name}-external-secrets-token-review`,
        labels: appLabels(plan, 'external-secrets', 'secret-store'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(TOKEN_REVIEW_SYNC_WAVE) },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: EXTERNAL_SECRETS_IDENTITY.name, namespace: EXTERNAL_SECRETS_IDENTITY.namespace }],
    });
    new ClusterSecretStoreV1Beta1(this, 'store', {
      metadata: {
        name,
        labels: appLabels(plan, 'external-secrets', 'secret-store'),
        annotations: {
          'argocd.argoproj.io/sync-wave': String(SECRET_STORE_SYNC_WAVE),
          // Every credential of the cluster is read through it: removing it is a deliberate step.
          'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
        },
      },
      spec: {
        provider: {
          vault: {
            server: vault.server,
            ...(vault.caCertificate ? { caBundle: Buffer.from(vault.caCertificate, 'utf8').toString('base64') } : {}),
            path: vault.kvMount,
            version: ClusterSecretStoreV1Beta1SpecProviderVaultVersion.V2,
            auth: {
              kubernetes: {
                mountPath: vaultAuthMountPath(plan),
                role: vault.role,
                serviceAccountRef: { ...EXTERNAL_SECRETS_IDENTITY },
              },
            },
          },
        },
      },
    });
  }
}
