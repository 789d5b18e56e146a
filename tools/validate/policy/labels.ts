/**
 * Rule `labels`: the recommended `app.kubernetes.io/*` labels on every object, the version on
 * workloads and their pod templates, and the region label equal to the object's region
 * folder. The required keys are the validator's own (label-rules.ts), not the charts' constants.
 */
import { child } from '../paths';
import { at, podTemplates } from '../pod-templates';
import { Entry, finding, labelsOf, RawFinding } from '../types';
import { LABELS, MANAGED_BY, REQUIRED_OBJECT_LABELS, REQUIRED_WORKLOAD_LABELS } from './label-rules';

const HINT = 'apply the shared label helper from charts/lib so every object gets the same labels';

function present(labels: Record<string, unknown>, key: string): boolean {
  return typeof labels[key] === 'string' && labels[key] !== '';
}

function required(e: Entry, labels: Record<string, unknown>, keys: readonly string[], metaPath: string, what: string, out: RawFinding[]): void {
  for (const key of keys) {
    if (!present(labels, key)) out.push(finding(e, child(child(metaPath, 'labels'), key), 'labels', `${what} is missing label ${key}`, HINT));
  }
}

export function checkLabels(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  const labels = labelsOf(e.obj.metadata);
  // AnalysisTemplates hold Job pod templates but are not workloads: no version of their own.
  const templates = /AnalysisTemplate$/.test(String(e.obj.kind)) ? [] : podTemplates(e.obj);
  const isWorkload = templates.length > 0;
  required(e, labels, isWorkload ? REQUIRED_WORKLOAD_LABELS : REQUIRED_OBJECT_LABELS, 'metadata', 'the object', out);
  if (present(labels, LABELS.managedBy) && labels[LABELS.managedBy] !== MANAGED_BY) {
    out.push(finding(e, child('metadata.labels', LABELS.managedBy), 'labels', `${LABELS.managedBy} is "${String(labels[LABELS.managedBy])}", expected "${MANAGED_BY}"`, HINT));
  }
  if (e.region !== null) {
    const value = labels[LABELS.region];
    if (value !== e.region) {
      out.push(finding(e, child('metadata.labels', LABELS.region), 'labels',
        value === undefined ? `the object is in region folder ${e.region} but has no ${LABELS.region} label` : `${LABELS.region} is ${JSON.stringify(value)} but the object is in region folder ${e.region}`,
        `set ${LABELS.region}: ${e.region} (from the region plan, not a literal)`));
    }
  }
  for (const tpl of templates) {
    const tplLabels = labelsOf(tpl.metadata);
    const metaPath = at(tpl, 'metadata');
    if (tpl.path) required(e, tplLabels, REQUIRED_WORKLOAD_LABELS, metaPath, 'the pod template', out);
    // Pods are not required to carry the region (it is on the owner), but a wrong one misleads
    // every query that slices pods by region.
    const podRegion = tplLabels[LABELS.region];
    if (tpl.path && e.region !== null && podRegion !== undefined && podRegion !== e.region) {
      out.push(finding(e, child(child(metaPath, 'labels'), LABELS.region), 'labels', `pod template ${LABELS.region} is ${JSON.stringify(podRegion)} but the object is in region folder ${e.region}`, `set it to ${e.region} or leave it off`));
    }
  }
  return out;
}
