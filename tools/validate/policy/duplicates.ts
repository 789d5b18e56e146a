import { apiGroup, Entry, isRecord, RawFinding } from '../types';

/**
 * Rule `duplicate-object`: one object (group, kind, namespace, name) rendered twice in a region
 * folder (or in the global one): the region's Application would hold two desired states for it.
 */
export function duplicateObjects(entries: readonly Entry[]): RawFinding[] {
  const first = new Map<string, Entry>();
  const out: RawFinding[] = [];
  for (const e of entries) {
    const { apiVersion, kind, metadata } = e.obj;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !isRecord(metadata) || typeof metadata.name !== 'string') continue;
    const key = `${e.region ?? ''} ${apiGroup(apiVersion)}/${kind} ${typeof metadata.namespace === 'string' ? metadata.namespace : ''}/${metadata.name}`;
    const seen = first.get(key);
    if (!seen) {
      first.set(key, e);
      continue;
    }
    out.push({ file: e.file, index: e.index, object: e.id, path: 'metadata.name', rule: 'duplicate-object',
      message: `${kind} ${metadata.name} is also in ${seen.file} (document ${seen.index + 1}): one object with two desired states, one overwriting the other on every sync`,
      hint: 'keep one: each object belongs to exactly one file' });
  }
  return out;
}
