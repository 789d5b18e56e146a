/**
 * Names and labels the monitoring, alerts and service-monitors charts share: what the
 * Prometheus resource is called, the label its rule and monitor selectors match, the labels
 * prometheus-operator puts on the pods it creates, where runbooks live. Computed from the
 * plan in one place so the three charts can never disagree (DESIGN.md: names computed once).
 */
import type { RegionPlan } from '../../regions/plan';
import { LABELS } from '../lib/labels';

/**
 * Label on every PrometheusRule, ServiceMonitor and PodMonitor we render; the Prometheus
 * resource selects exactly this label (value: its own name) in our monitoring namespace, so
 * rules or monitors created by anyone else (an add-on chart, a hand-applied object) are
 * never loaded into the region's Prometheus.
 */
export const PROMETHEUS_SELECTOR_LABEL = 'bookedbarber.com/prometheus';

/**
 * Istio's sidecar-injection opt-out (a pod label since Istio 1.14). Prometheus and
 * Alertmanager run outside the mesh, see charts/monitoring/chart.ts for why.
 */
export const ISTIO_INJECT_LABEL = 'sidecar.istio.io/inject';

export interface MonitoringNames {
  /** Prometheus resource; the operator runs StatefulSet `prometheus-<name>` behind Service `prometheus-operated`. */
  readonly prometheus: string;
  readonly prometheusServiceAccount: string;
  /** Alertmanager resource; StatefulSet `alertmanager-<name>` behind Service `alertmanager-operated`. */
  readonly alertmanager: string;
  readonly alertmanagerServiceAccount: string;
  /** The AlertmanagerConfig the Alertmanager resource uses as its whole configuration. */
  readonly alertmanagerConfig: string;
  /** Secret (from an ExternalSecret) holding the receivers' keys and webhook URLs. */
  readonly receiversSecret: string;
  /** The labels monitors and rules carry so that the Prometheus resource selects them. */
  readonly selectorLabels: Readonly<Record<string, string>>;
}

export function monitoringNames(plan: RegionPlan): MonitoringNames {
  const p = plan.global.platform.name;
  return {
    prometheus: p,
    prometheusServiceAccount: plan.names.monitoring.prometheusServiceAccount,
    alertmanager: p,
    alertmanagerServiceAccount: 'alertmanager',
    alertmanagerConfig: `${p}-alerting`,
    receiversSecret: `${p}-alertmanager-receivers`,
    selectorLabels: { [PROMETHEUS_SELECTOR_LABEL]: p },
  };
}

/**
 * Labels prometheus-operator (v0.93) sets on every pod of a Prometheus or Alertmanager
 * resource, whatever `podMetadata` says; PDBs and spread constraints select on these, and the
 * connection declaration (charts/wiring/peers.ts) selects the Prometheus pods by `app.kubernetes.io/name`.
 */
export function operatorPodSelector(kind: 'prometheus' | 'alertmanager', name: string): Record<string, string> {
  return { [LABELS.name]: kind, [LABELS.instance]: name, [kind]: name };
}

/** Namespace selector matching exactly one namespace by its immutable name label. */
export function namespaceSelector(namespace: string): { matchLabels: Record<string, string> } {
  return { matchLabels: { 'kubernetes.io/metadata.name': namespace } };
}

/**
 * The browsable URL of the repository Argo CD syncs from: `https://host/org/repo` for
 * `https://host/org/repo.git`, `git@host:org/repo.git` and `ssh://git@host/org/repo.git`.
 */
export function repoWebUrl(repoURL: string): string {
  const scp = /^git@([^:]+):(.+?)(\.git)?$/.exec(repoURL);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  const ssh = /^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+?)(\.git)?$/.exec(repoURL);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  return repoURL.replace(/\.git$/, '').replace(/\/$/, '');
}

/** Folder of the runbooks in this repository (one Markdown page per runbook). */
export const RUNBOOK_DIR = 'docs/runbooks';

/**
 * `runbook_url` of an alert: the page in this repository at the revision Argo CD deploys,
 * so the runbook an engineer opens matches the rules that paged them.
 */
export function runbookUrl(plan: RegionPlan, runbook: string): string {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(runbook)) throw new Error(`runbook "${runbook}" must be a kebab-case file name without .md`);
  return `${repoWebUrl(plan.global.git.repoURL)}/blob/${plan.global.git.targetRevision}/${RUNBOOK_DIR}/${runbook}.md`;
}
