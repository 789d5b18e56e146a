/**
 * The namespaces besides ours the monitoring charts render into, for the region AppProject
 * (charts/argocd/chart.ts). The kinds they render are in the AppProject's explicit allow list, which a
 * test keeps equal to what dist/ holds.
 */
import type { RegionPlan } from '../../regions/plan';
import { scrapedNamespaces, scrapeTargets } from '../lib/monitoring-targets';

/**
 * Add-on namespaces the monitoring chart renders into: only Prometheus' discovery Role and
 * RoleBinding, where it scrapes an add-on (the Argo Rollouts controller, kube-state-metrics in
 * monitoring-system; istiod and the ingress gateway live in the mesh namespaces the region
 * project lists anyway, so they are not repeated here).
 */
export function monitoringForeignNamespaces(plan: RegionPlan): string[] {
  const ours = new Set([...Object.values(plan.namespaces), plan.names.mesh.rootNamespace, plan.names.mesh.ingressNamespace]);
  return scrapedNamespaces(scrapeTargets(plan)).filter((ns) => !ours.has(ns));
}
