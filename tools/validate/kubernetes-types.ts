/**
 * Layer 1b — types and required fields of Kubernetes built-in kinds, from the precompiled
 * ajv validators that `kubernetes-models` ships (they check types and `required`, not unknown
 * fields: that is known-fields.ts's job). CRDs are typed by the upstream layer instead.
 *
 * kubernetes-models 4.5.1 follows a newer Kubernetes than 1.28; a field that only exists in
 * a newer release passes here but is still caught as unknown by the 1.28 mappers.
 */
import * as path from 'node:path';
import { isBuiltinKind } from './mapper-registry';
import { fromPointer, child } from './paths';
import { Entry, finding, RawFinding } from './types';

interface AjvError { instancePath: string; keyword: string; params: Record<string, any>; message?: string }
type ModelClass = new (data: unknown) => { validate(): void };

const LABEL_MAPS = /(^|\.)metadata\.(labels|annotations)(\.|\[|$)/;
const models = new Map<string, ModelClass | null>();

/** `kubernetes-models/<apiVersion>/<Kind>` (core group: `kubernetes-models/v1/<Kind>`). */
function modelFor(apiVersion: string, kind: string): ModelClass | null {
  const key = `${apiVersion}/${kind}`;
  if (models.has(key)) return models.get(key)!;
  let cls: ModelClass | null = null;
  // Only built-in kinds reach here, so the module path is built from known-good names.
  if (/^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(apiVersion) && /^[A-Za-z0-9]+$/.test(kind)) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.posix.join('kubernetes-models', apiVersion, kind));
      cls = typeof mod[kind] === 'function' ? mod[kind] : null;
    } catch {
      cls = null; // kubernetes-models has no such kind (e.g. removed alpha APIs): nothing to check
    }
  }
  models.set(key, cls);
  return cls;
}

function describe(err: AjvError): string {
  switch (err.keyword) {
    case 'type': return `must be ${err.params.type}`;
    case 'enum': return `must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default: return err.message ?? err.keyword;
  }
}

function typeHint(err: AjvError): string {
  if (err.keyword !== 'type') return 'compare the value with the Kubernetes API reference';
  if (err.params.type === 'array') return 'write it as a YAML list (`- item` entries)';
  if (err.params.type === 'object') return 'write it as a YAML map (`key: value` entries)';
  return 'YAML types matter: quote strings that look like numbers or booleans, write numbers unquoted';
}

export function checkKubernetesTypes(e: Entry): RawFinding[] {
  const { apiVersion, kind } = e.obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !isBuiltinKind(apiVersion, kind)) return [];
  const Model = modelFor(apiVersion, kind);
  if (!Model) return [];
  try {
    new Model(e.obj).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) {
      return [finding(e, '', 'schema-type', `${kind} failed type validation: ${(err as Error).message}`, 'Compare the object with the Kubernetes API reference.')];
    }
    const seen = new Set<string>();
    const out: RawFinding[] = [];
    for (const er of errors) {
      const base = fromPointer(er.instancePath, e.obj);
      // Label/annotation values are judged by metadata.ts (rule schema-metadata), for CRDs too.
      if (LABEL_MAPS.test(base)) continue;
      const required = er.keyword === 'required';
      const at = required ? child(base, String(er.params.missingProperty)) : base;
      const message = required ? `required field ${at} is missing` : `${at || 'the object'} ${describe(er)}`;
      if (seen.has(at + message)) continue;
      seen.add(at + message);
      // kubernetes-models (newer than 1.28) declares some enums; they share enums.ts's rule id so
      // the two reports of one bad value collapse into one (enums.ts, listed first, wins).
      const rule = required ? 'schema-required' : er.keyword === 'enum' ? 'schema-enum' : 'schema-type';
      out.push(finding(e, at, rule, message,
        required ? `set ${at}; Kubernetes rejects a ${kind} without it` : typeHint(er)));
    }
    return out;
  }
}
