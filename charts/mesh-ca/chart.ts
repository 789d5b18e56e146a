/**
 * The region's Istio intermediate CA (dist/<region>/mesh-ca.yaml): the `cacerts` ExternalSecret
 * in istio-system, which every region's workload certificates chain to one shared root through
 * (Istio multi-network: a sidecar in one region trusts a sidecar in another). The private keys
 * stay in the secret store; git names only the remote key.
 *
 * Why a file of its own, synced by the istiod Application and not by the region's: istiod reads
 * `cacerts` once, at start. Started without it, it signs with a self-generated root and keeps it
 * (pilot/pkg/bootstrap/istio_ca.go: "The user-provided certs are missing - create a self-signed
 * cert"; the reload watcher only runs when the certs were there at start, and refuses a new root
 * anyway), so every cross-region connection fails its mTLS handshake until istiod and every
 * meshed pod restart. The istiod Application (charts/argocd/addon-catalog.ts) therefore syncs this
 * file beside its Helm chart, one wave earlier: Argo CD applies istiod's Deployment only once
 * this ExternalSecret is Healthy (its built-in health check: the operator wrote the Secret). The
 * region Application leaves the file out (charts/argocd/chart.ts), so one Application owns it.
 */
import type { Construct } from 'constructs';
import { CredentialsFromStore } from '../lib/external-secret';
import { appLabels } from '../lib/metadata';
import { MESH_CA_COMPONENT, meshCaRemoteKey } from '../lib/mesh-network';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

/** The Secret istiod reads its CA from (Istio's "plug in CA certificates"). */
const MESH_CA_SECRET = 'cacerts';
/**
 * Sync wave of the ExternalSecret inside the istiod Application: before the Helm chart's
 * objects, which carry no wave (0).
 */
const MESH_CA_SYNC_WAVE = -1;

export class MeshCaChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, MESH_CA_COMPONENT, props);
    const { plan } = this;
    const key = meshCaRemoteKey(plan);
    const credentials = new CredentialsFromStore(this, 'mesh-ca', {
      plan,
      name: MESH_CA_SECRET,
      namespace: plan.names.mesh.rootNamespace,
      labels: appLabels(plan, 'mesh', 'service-mesh'),
      keys: Object.fromEntries(['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'].map((k) => [k, { key, property: k }])),
    });
    const meta = credentials.apiObject.metadata;
    meta.addAnnotation('argocd.argoproj.io/sync-wave', String(MESH_CA_SYNC_WAVE));
    // Never deleted by a sync or with an Application: the Secret is owned by this object (goes
    // with it), and an istiod started without it signs with a root of its own. Removing the mesh
    // CA is a deliberate kubectl step (docs/multi-region.md).
    meta.addAnnotation('argocd.argoproj.io/sync-options', 'Prune=false,Delete=false');
  }
}
