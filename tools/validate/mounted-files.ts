/**
 * The configuration files a pod template mounts from ConfigMaps (volumes and projected sources),
 * for the rules that read a program's own files (patroni.yml, pgbouncer.ini, postgresql.conf).
 * Looked up once per pod template and scope: several rules ask for every workload of a namespace.
 */
import type { Context } from './context';
import type { PodTemplate } from './pod-templates';
import { parse } from 'yaml';
import { asArray, type Entry, isRecord } from './types';

/** A ConfigMap a pod template mounts, and the keys it mounts (`items`; undefined: all of them). */
interface Mount {
  readonly name: string;
  readonly keys?: readonly string[];
  /** The pod's volume that mounts it. */
  readonly volume: string;
}

function mountOf(source: Record<string, any>, volume: string): Mount | undefined {
  if (typeof source.name !== 'string') return undefined;
  const items = asArray(source.items).filter(isRecord);
  return { name: source.name, keys: items.length > 0 ? items.map((i) => String(i.key)) : undefined, volume };
}

/**
 * What a pod volume is made of: its ConfigMap or Secret, or each source of a projected volume
 * (`other`: a downward API, a service account token, or a volume of another type).
 */
export function volumeSources(volume: Record<string, any>): Array<{ kind: 'configMap' | 'secret' | 'other'; source: Record<string, any> }> {
  const one = (v: Record<string, any>) => (isRecord(v.configMap) ? { kind: 'configMap' as const, source: v.configMap }
    : isRecord(v.secret) ? { kind: 'secret' as const, source: v.secret } : { kind: 'other' as const, source: v });
  return isRecord(volume.projected) ? asArray(volume.projected.sources).filter(isRecord).map(one) : [one(volume)];
}

/** The ConfigMaps a pod template mounts (volumes and projected sources). */
function mountedConfigMaps(tpl: PodTemplate): Mount[] {
  return asArray(tpl.spec.volumes).filter(isRecord).flatMap((v) => volumeSources(v)
    .filter((s) => s.kind === 'configMap').map((s) => mountOf(s.source, String(v.name)))
    .filter((m): m is Mount => m !== undefined));
}

export interface MountedFile {
  readonly configMap: Entry;
  readonly key: string;
  readonly text: string;
  /** The pod's volume it comes through (containers mount that volume to read it). */
  readonly volume: string;
}

const byTemplate = new WeakMap<object, WeakMap<PodTemplate, MountedFile[]>>();

/** Every key the template mounts of a ConfigMap (in the workload's namespace, `items` honoured), as text. */
export function mountedFiles(tpl: PodTemplate, ns: string, ctx: Context, e: Entry): MountedFile[] {
  const scope = ctx.scope(e);
  let cache = byTemplate.get(scope);
  if (!cache) byTemplate.set(scope, (cache = new WeakMap()));
  let files = cache.get(tpl);
  if (!files) {
    files = mountedConfigMaps(tpl).flatMap(({ name, keys, volume }) => {
      const cm = scope.named(ns, '', 'ConfigMap', name);
      const data = cm && isRecord(cm.obj.data) ? cm.obj.data : {};
      return Object.entries(data)
        .filter(([key, v]) => typeof v === 'string' && (!keys || keys.includes(key)))
        .map(([key, text]) => ({ configMap: cm!, key, text: text as string, volume }));
    });
    cache.set(tpl, files);
  }
  return files;
}

const documents = new Map<string, unknown>();

/**
 * A YAML (or JSON) file's data, parsed once per text; undefined when it does not parse (another
 * rule's concern). JSON files with leading `#` comments (JSON is YAML) take the fast path.
 */
export function parsedYaml(text: string): unknown {
  if (documents.has(text)) return documents.get(text);
  let data: unknown;
  const body = text.replace(/^(\s*#[^\n]*\n)+/, '');
  try {
    data = body.trimStart().startsWith('{') ? JSON.parse(body) : parse(text);
  } catch {
    try {
      data = parse(text);
    } catch {
      data = undefined;
    }
  }
  if (documents.size >= 1000) documents.clear(); // bounded on generated input
  documents.set(text, data);
  return data;
}
