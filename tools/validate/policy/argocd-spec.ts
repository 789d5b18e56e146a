/**
 * Where an Argo CD Application's spec is: its own `spec`, or an ApplicationSet's
 * `spec.template.spec` (each generated Application's). Rules over sources and projects read both.
 */
import { specOf } from '../context';
import { item } from '../paths';
import { asArray, Entry, isKind, isRecord } from '../types';

export interface ApplicationSpec {
  readonly spec: Record<string, any>;
  /** The path of `spec` in the object, for findings. */
  readonly base: string;
  /** An Application (false: an ApplicationSet's template). */
  readonly app: boolean;
}

export function applicationSpecOf(e: Entry): ApplicationSpec | undefined {
  const app = isKind(e.obj, 'argoproj.io', 'Application');
  if (!app && !isKind(e.obj, 'argoproj.io', 'ApplicationSet')) return undefined;
  const spec = app ? specOf(e.obj) : isRecord(specOf(e.obj).template) ? specOf(specOf(e.obj).template) : {};
  return { spec, base: app ? 'spec' : 'spec.template.spec', app };
}

/** Its `source` and each of its `sources`, with their paths. */
export function sourcesOf({ spec, base }: ApplicationSpec): Array<[unknown, string]> {
  return [[spec.source, `${base}.source`], ...asArray(spec.sources).map((s, i): [unknown, string] => [s, item(`${base}.sources`, i)])];
}
