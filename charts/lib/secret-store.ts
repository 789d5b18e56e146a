/**
 * Names the secret store chart (charts/secret-store) and the External Secrets add-on
 * (charts/argocd/addon-catalog.ts) share: the file of dist/<region> the add-on syncs, the
 * controller's identity the store logs in as, and where in Vault each cluster's auth is mounted.
 */
import type { RegionPlan } from '../../regions/plan';

export const SECRET_STORE_COMPONENT = 'secret-store';
export const SECRET_STORE_FILE = `${SECRET_STORE_COMPONENT}.yaml`;

/** The External Secrets controller's identity (the add-on's release name and namespace: its ServiceAccount). */
export const EXTERNAL_SECRETS_IDENTITY = { name: 'external-secrets', namespace: 'external-secrets' } as const;

/** Where in Vault this cluster's Kubernetes auth method is mounted (each cluster issues its own tokens). */
export function vaultAuthMountPath(plan: RegionPlan): string {
  return `kubernetes-${plan.region.cluster.name}`;
}
