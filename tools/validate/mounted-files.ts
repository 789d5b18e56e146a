/**
 * The configuration files a pod template mounts from ConfigMaps (volumes and projected sources),
 * for the rules that read a program's own files (patroni.yml, pgbouncer.ini, postgresql.conf).
 * Looked up once per pod template and scope: several rules ask for every workload of a namespace.
 */
import type { Context } from './context';
import type { PodTemplate } from './pod-templates';
import { parse } from 'yaml';
import { asArray, type Entry, isRecord } from './types';

/** Names of the ConfigMaps a pod template mounts. */
export function mountedConfigMaps(tpl: PodTemplate): string[] {
  const names: string[] = [];
  for (const v of asArray(tpl.spec.volumes).filter(isRecord)) {
    if (isRecord(v.configMap) && typeof v.configMap.name === 'string') names.push(v.configMap.name);
    for (const s of asArray(isRecord(v.projected) ? v.projected.sources : undefined).filter(isRecord)) {
      if (isRecord(s.configMap) && typeof s.configMap.name === 'string') names.push(s.configMap.name);
    }
  }
  return names;
}

export interface MountedFile {
  readonly configMap: Entry;
  readonly key: string;
  readonly text: string;
}

const byTemplate = new WeakMap<object, WeakMap<PodTemplate, MountedFile[]>>();

/** Every key of every ConfigMap the template mounts (in the workload's namespace), as text. */
export function mountedFiles(tpl: PodTemplate, ns: string, ctx: Context, e: Entry): MountedFile[] {
  const scope = ctx.scope(e);
  let cache = byTemplate.get(scope);
  if (!cache) byTemplate.set(scope, (cache = new WeakMap()));
  let files = cache.get(tpl);
  if (!files) {
    files = mountedConfigMaps(tpl).flatMap((name) => {
      const cm = scope.named(ns, '', 'ConfigMap', name);
      const data = cm && isRecord(cm.obj.data) ? cm.obj.data : {};
      return Object.entries(data).filter(([, v]) => typeof v === 'string').map(([key, text]) => ({ configMap: cm!, key, text: text as string }));
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
