/**
 * The labels the `labels` policy requires: the validator's own rules, not imported from the
 * charts (the validator imports no chart, so a chart that drifts from them is caught).
 *
 * `app.kubernetes.io/*` are the Kubernetes recommended labels
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/); the
 * region label lets one query (Prometheus, kubectl, Argo CD) slice any object by region.
 */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
  region: 'bookedbarber.com/region',
} as const;

/** Required on every object (global objects in dist/argocd carry no region). */
export const REQUIRED_OBJECT_LABELS: readonly string[] = [LABELS.name, LABELS.instance, LABELS.component, LABELS.partOf, LABELS.managedBy];

/** Required in addition on workloads and their pod templates: what version is running. */
export const REQUIRED_WORKLOAD_LABELS: readonly string[] = [...REQUIRED_OBJECT_LABELS, LABELS.version];

/** The only accepted `app.kubernetes.io/managed-by`: the tool that owns the manifests. */
export const MANAGED_BY = 'cdk8s';
