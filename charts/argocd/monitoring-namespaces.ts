/**
 * The namespaces besides ours the monitoring charts render into, for the region AppProject
 * (charts/argocd/chart.ts). The kinds they render are in the AppProject's explicit allow list, which a
 * test keeps equal to what dist/ holds.
 */
import type { RegionPlan } from '../../regions/plan';
import { scrapedNamespaces, scrapeTargets } from '../lib/monitoring-targets';

/**
 * Add-on namespaces the monitoring chart renders into: only Prometheus' discovery Role and
 * RoleBinding, where it scrapes an add-on (the Argo Rollouts controller).
 */
export function monitoringForeignNamespaces(plan: RegionPlan): string[] {
  const ours = new Set(Object.values(plan.namespaces));
  return scrapedNamespaces(scrapeTargets(plan)).filter((ns) => !ours.has(ns));
}
