/**
 * The store every ExternalSecret reads through exists before the first one: the region's
 * ClusterSecretStore is rendered (dist/<region>/secret-store.yaml) and synced by the External
 * Secrets Application, after that chart's objects, in the first add-on wave. Left to be created by
 * hand it could not be: its CRD arrives with External Secrets, and the next wave's Grafana admin
 * Secret (kube-prometheus-stack) would wait for it forever, holding every later wave.
 */
import { describe, expect, it } from 'vitest';
import { platformAddons } from '../../charts/argocd/addon-catalog';
import { PlatformAddonsChart } from '../../charts/argocd/addons-chart';
import { ArgoCdChart } from '../../charts/argocd/chart';
import { SecretStoreChart } from '../../charts/secret-store/chart';
import { newApp, objectsOf, shippedPlan } from '../support/charts';

const plan = shippedPlan();

describe('the secret store (dist/<region>/secret-store.yaml)', () => {
  it('is a Vault ClusterSecretStore named as every ExternalSecret names it, logging in through the cluster\'s own Kubernetes auth mount as External Secrets', () => {
    for (const region of plan.regions) {
      const all = objectsOf(new SecretStoreChart(newApp(), { plan: region }));
      expect(all.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`)).toEqual([
        'rbac.authorization.k8s.io/v1 ClusterRoleBinding bookedbarber-external-secrets-token-review',
        'external-secrets.io/v1beta1 ClusterSecretStore bookedbarber-vault',
      ]);
      // Vault reviews the login token with the token itself: External Secrets may call TokenReview, before the store's first login.
      const [binding, store] = all;
      expect(binding!.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' });
      expect(binding!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'external-secrets', namespace: 'external-secrets' }]);
      expect(Number(binding!.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeLessThan(Number(store!.metadata.annotations['argocd.argoproj.io/sync-wave']));
      const objects = [store!];
      expect(objects[0]!.spec.provider.vault).toEqual({
        server: 'https://vault.bookedbarber.com:8200',
        path: 'secret',
        version: 'v2',
        auth: { kubernetes: { mountPath: `kubernetes-bookedbarber-${region.region.name}`, role: 'external-secrets', serviceAccountRef: { name: 'external-secrets', namespace: 'external-secrets' } } },
      });
      // After the chart's objects (no wave: 0), so External Secrets' webhook answers when it is applied.
      expect(objects[0]!.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '1', 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' });
    }
  });

  it('trusts a private CA when one is configured (caBundle: the PEM, base64)', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2E=\n-----END CERTIFICATE-----\n';
    const region = plan.regions[0]!;
    const secretStore = { ...region.global.secretStore, vault: { ...region.global.secretStore.vault, caCertificate: pem } };
    const [, store] = objectsOf(new SecretStoreChart(newApp(), { plan: { ...region, global: { ...region.global, secretStore } } }));
    expect(Buffer.from(store!.spec.provider.vault.caBundle, 'base64').toString('utf8')).toBe(pem);
  });

  it('is synced by the External Secrets Application, whose ServiceAccount it names, in the wave before the first ExternalSecret', () => {
    const apps = objectsOf(new PlatformAddonsChart(newApp(), { plan })).filter((o) => o.kind === 'Application');
    for (const region of plan.regions) {
      const name = region.region.name;
      const eso = apps.find((a) => a.metadata.name === `bookedbarber-${name}-external-secrets`)!;
      expect(eso.spec.sources.map((s: any) => s.chart ?? s.directory.include)).toEqual(['external-secrets', 'secret-store.yaml']);
      expect(eso.spec.sources[0].helm.releaseName).toBe('external-secrets');
      expect(eso.spec.destination.namespace).toBe('external-secrets');
      const addons = platformAddons(region);
      const wave = (id: string) => addons.find((a) => a.id === id)!.wave;
      // Grafana's admin Secret (kube-prometheus-stack) and the mesh CA (istiod) come later.
      expect(wave('external-secrets')).toBeLessThan(wave('kube-prometheus-stack'));
      expect(wave('external-secrets')).toBeLessThan(wave('istiod'));
    }
    const project = objectsOf(new ArgoCdChart(newApp(), { plan })).find((o) => o.kind === 'AppProject' && o.metadata.name === 'bookedbarber-platform')!;
    expect(project.spec.clusterResourceWhitelist).toContainEqual({ group: 'external-secrets.io', kind: 'ClusterSecretStore' });
  });
});
