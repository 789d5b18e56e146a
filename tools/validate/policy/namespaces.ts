/**
 * Rule `namespace-pod-security`: every Namespace we render enforces, audits and warns at Pod
 * Security "restricted", so the cluster itself refuses pods the policy rules would flag.
 */
import { child } from '../paths';
import { Entry, finding, isKind, labelsOf, RawFinding } from '../types';

const MODES = ['enforce', 'audit', 'warn'];

export function checkNamespacePodSecurity(e: Entry): RawFinding[] {
  if (!isKind(e.obj, '', 'Namespace')) return [];
  const labels = labelsOf(e.obj.metadata);
  return MODES.filter((m) => labels[`pod-security.kubernetes.io/${m}`] !== 'restricted').map((m) => {
    const key = `pod-security.kubernetes.io/${m}`;
    const value = labels[key];
    return finding(e, child('metadata.labels', key), 'namespace-pod-security',
      value === undefined ? `Namespace has no ${key} label` : `${key} is ${JSON.stringify(value)}, not "restricted"`,
      `label the Namespace ${key}: restricted`);
  });
}
