/**
 * The label keys every rendered object carries. Kept apart from the constructs that apply them
 * so the validator (which imports no chart) checks the very same keys.
 *
 * `app.kubernetes.io/*` are Kubernetes' recommended labels; the region label lets one query
 * (Prometheus, kubectl, Argo CD) slice any object by region without parsing names.
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

/** Required on every object we render (global objects in dist/argocd carry no region). */
export const REQUIRED_OBJECT_LABELS: readonly string[] = [
  LABELS.name,
  LABELS.instance,
  LABELS.component,
  LABELS.partOf,
  LABELS.managedBy,
];

/** Required in addition on workloads and their pod templates: what version is running. */
export const REQUIRED_WORKLOAD_LABELS: readonly string[] = [...REQUIRED_OBJECT_LABELS, LABELS.version];

/** `app.kubernetes.io/managed-by` value: the tool that owns the object's manifest. */
export const MANAGED_BY = 'cdk8s';
