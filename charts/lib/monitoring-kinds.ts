/**
 * What the monitoring, alerts and service-monitors charts render, for the region AppProject
 * (charts/argocd.ts): the namespaced kinds it must allow and the namespaces besides ours it
 * must let the region Application deploy into. Kept next to the charts that render them, so
 * adding a kind here is the same review as rendering it.
 */
import type { RegionPlan } from '../../regions/plan';
import { scrapedNamespaces, scrapeTargets } from './monitoring-targets';

export const MONITORING_NAMESPACED_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'ServiceAccount' },
  { group: 'policy', kind: 'PodDisruptionBudget' },
  { group: 'rbac.authorization.k8s.io', kind: 'Role' },
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
  { group: 'external-secrets.io', kind: 'ExternalSecret' },
  { group: 'monitoring.coreos.com', kind: 'Prometheus' },
  { group: 'monitoring.coreos.com', kind: 'Alertmanager' },
  { group: 'monitoring.coreos.com', kind: 'AlertmanagerConfig' },
  { group: 'monitoring.coreos.com', kind: 'PrometheusRule' },
  { group: 'monitoring.coreos.com', kind: 'ServiceMonitor' },
  { group: 'monitoring.coreos.com', kind: 'PodMonitor' },
];

/**
 * Add-on namespaces the monitoring chart renders into: only Prometheus' discovery Role and
 * RoleBinding, where it scrapes an add-on (the Argo Rollouts controller).
 */
export function monitoringForeignNamespaces(plan: RegionPlan): string[] {
  const ours = new Set(Object.values(plan.namespaces));
  return scrapedNamespaces(scrapeTargets(plan)).filter((ns) => !ours.has(ns));
}
