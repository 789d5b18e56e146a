/**
 * Egress to endpoints outside the cluster's pod network, which the flow table (pod to pod)
 * cannot express: the Kubernetes API (Patroni's leader election, Prometheus' service discovery),
 * regional object storage (WAL-G archives and base backups), and the alert receivers (Slack,
 * PagerDuty, SMTP). Without these the namespaces' default-deny egress would stop Postgres from
 * ever electing a primary and Alertmanager from ever paging.
 *
 * The model does not know the API server's or the providers' addresses, so each rule opens only
 * the named ports, to any address, for only the pods that need them; meshed pods are further
 * limited by their Sidecar (REGISTRY_ONLY) to the hosts of the ServiceEntries rendered here.
 */
import type { RegionPlan } from '../../regions/plan';
import { LABELS } from '../lib/labels';

export interface ExternalEgress {
  /** Names the NetworkPolicy: `allow-<name>-external-egress`. */
  readonly name: string;
  readonly namespace: string;
  /** app.kubernetes.io/name values of the pods allowed out. */
  readonly apps: readonly string[];
  readonly ports: readonly number[];
  /** Pods in a namespace we do not own (an add-on); absent: any address. */
  readonly to?: { readonly namespace: string; readonly app: string };
  readonly why: string;
}

/** TCP ports of the Kubernetes API: 443 through the `kubernetes` Service, 6443 on EKS endpoints. */
const KUBE_API_PORTS = [443, 6443] as const;

export function externalEgress(plan: RegionPlan): ExternalEgress[] {
  const { data, monitoring } = plan.namespaces;
  return [
    {
      name: 'postgres',
      namespace: data,
      apps: ['postgres', 'postgres-backup'],
      ports: [...KUBE_API_PORTS],
      why: 'Patroni keeps the leader lock in the Kubernetes API; WAL-G writes WAL and base backups to the region\'s object storage over HTTPS.',
    },
    {
      name: 'prometheus',
      namespace: monitoring,
      apps: ['prometheus'],
      ports: [...KUBE_API_PORTS],
      why: 'Prometheus discovers its targets through the Kubernetes API and remote-writes over HTTPS when configured.',
    },
    {
      // Namespaces we do not own get no ingress policy from us, so only this egress side exists.
      name: 'prometheus-argo-rollouts',
      namespace: monitoring,
      apps: ['prometheus'],
      ports: [8090],
      to: { namespace: 'argo-rollouts', app: 'argo-rollouts' },
      why: 'Prometheus scrapes the Argo Rollouts controller (rollout phase metrics behind the RolloutAborted alert).',
    },
    {
      name: 'alertmanager',
      namespace: monitoring,
      apps: ['alertmanager'],
      ports: [443, 587],
      why: 'Alertmanager notifies Slack and PagerDuty over HTTPS and sends mail through the SMTP relay (submission port).',
    },
  ];
}

/** Hosts of the region's object storage the meshed Postgres pods reach (AWS S3 and STS). */
export function objectStorageHosts(plan: RegionPlan): string[] {
  const r = plan.region.name;
  return [`s3.${r}.amazonaws.com`, `*.s3.${r}.amazonaws.com`, `sts.${r}.amazonaws.com`];
}

export function podSelectorFor(egress: ExternalEgress): { matchExpressions: { key: string; operator: string; values: string[] }[] } {
  return { matchExpressions: [{ key: LABELS.name, operator: 'In', values: [...egress.apps] }] };
}
