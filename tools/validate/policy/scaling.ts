/**
 * Rule `hpa-bounds`: a HorizontalPodAutoscaler's minReplicas is at most its maxReplicas (the API
 * server refuses it otherwise; the schema types each bound alone), and maxReplicas is at least 1.
 */
import { Entry, finding, isKind, isRecord, RawFinding } from '../types';

export function checkHpaBounds(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'autoscaling', 'HorizontalPodAutoscaler')) return [];
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  const min = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
  const max = spec.maxReplicas;
  if (typeof max !== 'number') return [];
  if (max < 1) return [finding(e, 'spec.maxReplicas', 'hpa-bounds', `maxReplicas is ${max}: the API server refuses an autoscaler that may run no pod`, 'set maxReplicas to at least minReplicas (the region file\'s autoscaling.*.maxReplicas)')];
  if (min > max) return [finding(e, 'spec.minReplicas', 'hpa-bounds', `minReplicas ${min} is above maxReplicas ${max}: the API server refuses the autoscaler`, 'lower minReplicas or raise maxReplicas (the region file\'s autoscaling.*)')];
  return [];
}
