/**
 * Where an Argo CD Application's spec is: its own `spec`, or an ApplicationSet's
 * `spec.template.spec` (each generated Application's). Rules over sources and projects read both.
 */
import type { Context } from '../context';
import { specOf } from '../context';
import { item } from '../paths';
import { asArray, Entry, isKind, isRecord, labelsOf } from '../types';
import { LABELS } from './label-rules';

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

/** A Helm chart source of an Application that installs an add-on into one region. */
export interface RegionChart {
  readonly entry: Entry;
  /** Its `helm.valuesObject`; undefined when the values are not given as an object (not judged). */
  readonly values: Record<string, any> | undefined;
  /** The path of `helm.valuesObject` in the Application, for findings. */
  readonly path: string;
}

/**
 * The sources of `chart` among the global folder's Applications for `region` (one per region and
 * add-on, labelled with the region): what rules judging an add-on's values against the region's
 * objects read.
 */
export function regionChartSources(ctx: Context, region: string, chart: string): RegionChart[] {
  const out: RegionChart[] = [];
  for (const e of ctx.regionScope(null).entries) {
    if (!isKind(e.obj, 'argoproj.io', 'Application') || labelsOf(e.obj.metadata)[LABELS.region] !== region) continue;
    for (const [source, at] of sourcesOf(applicationSpecOf(e)!)) {
      if (!isRecord(source) || source.chart !== chart) continue;
      const values = isRecord(source.helm) && isRecord(source.helm.valuesObject) ? source.helm.valuesObject : undefined;
      out.push({ entry: e, values, path: `${at}.helm.valuesObject` });
    }
  }
  return out;
}
