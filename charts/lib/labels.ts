/**
 * The label keys every rendered object carries. The validator keeps its own copy of the
 * required keys (tools/validate/policy/label-rules.ts): it imports no chart, so a chart that
 * drifts from them is caught rather than agreed with.
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

/** `app.kubernetes.io/managed-by` value: the tool that owns the object's manifest. */
export const MANAGED_BY = 'cdk8s';
