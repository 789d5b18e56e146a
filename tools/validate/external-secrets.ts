/**
 * What an ExternalSecret writes, in one place for every rule that asks (ref-config, ref-config-key,
 * the wiring check's credentials hop): the Secret's name (target.name, else the ExternalSecret's
 * own) and its keys, as External Secrets Operator writes them.
 */
import { asArray, Entry, isRecord, nameOf } from './types';

const specOf = (e: Entry): Record<string, any> => (isRecord(e.obj.spec) ? e.obj.spec : {});

/** The Secret an ExternalSecret writes. */
export function producedSecretName(es: Entry): string | undefined {
  const target = isRecord(specOf(es).target) ? specOf(es).target : {};
  return typeof target.name === 'string' && target.name ? target.name : nameOf(es.obj);
}

/**
 * The keys of the Secret an ExternalSecret writes, or undefined when they cannot be known from
 * the object: whole remote objects (dataFrom), templateFrom, or a Secret it merges into
 * (creationPolicy Merge keeps the keys already there). With template data, the fetched keys are
 * written only under mergePolicy Merge (ESO's default, Replace, writes the template's keys alone);
 * without it, the fetched keys are the Secret.
 */
export function writtenKeys(es: Entry): Set<string> | undefined {
  const spec = specOf(es);
  const target = isRecord(spec.target) ? spec.target : {};
  const template = isRecord(target.template) ? target.template : undefined;
  if (asArray(spec.dataFrom).length > 0 || (template && asArray(template.templateFrom).length > 0) || target.creationPolicy === 'Merge') return undefined;
  const keys = new Set<string>();
  const templated = template && isRecord(template.data) ? Object.keys(template.data) : [];
  for (const k of templated) keys.add(k);
  if (templated.length === 0 || template?.mergePolicy === 'Merge') {
    for (const d of asArray(spec.data)) if (isRecord(d) && typeof d.secretKey === 'string') keys.add(d.secretKey);
  }
  return keys;
}
