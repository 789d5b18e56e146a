/**
 * Layer 1d — names and labels the API server validates with regular expressions the
 * OpenAPI schema does not carry (rule `schema-metadata`).
 */
import { child } from './paths';
import { podTemplates, at } from './pod-templates';
import { apiGroup, Entry, finding, isRecord, RawFinding } from './types';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kinds whose name must be a DNS-1123 label (63 chars): it becomes a DNS label itself. */
const LABEL_NAMED = new Set(['/Service', '/Namespace']);
/** RBAC names are path segments (`system:metrics-reader` is valid). */
const PATH_SEGMENT_NAMED = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].map((k) => `rbac.authorization.k8s.io/${k}`));

export function validDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

export function validDnsSubdomain(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}

/** Label/annotation key: optional DNS-subdomain prefix + '/' + name of ≤63 chars. */
export function labelKeyProblem(key: string): string | undefined {
  // The same few dozen keys label every object: each is judged once (a pure function of the key).
  if (!keyProblems.has(key)) {
    if (keyProblems.size >= 10_000) keyProblems.clear(); // a tree of generated keys: bounded memory
    keyProblems.set(key, judgeLabelKey(key));
  }
  return keyProblems.get(key);
}

const keyProblems = new Map<string, string | undefined>();

function judgeLabelKey(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !validDnsSubdomain(prefix)) return `prefix "${prefix}" is not a DNS subdomain (lowercase alphanumerics, '-', '.')`;
  if (name.length === 0 || name.length > 63) return `name part "${name}" must be 1-63 characters`;
  if (!LABEL_NAME.test(name)) return `name part "${name}" must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `value ${JSON.stringify(value)} is a ${value === null ? 'null' : typeof value}, not a string`;
  if (value.length > 63) return `value is ${value.length} characters (max 63)`;
  if (value !== '' && !LABEL_NAME.test(value)) return `value "${value}" must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

function checkLabels(e: Entry, meta: unknown, metaPath: string, out: RawFinding[]): void {
  if (!isRecord(meta)) return;
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined || map === null) continue;
    const mapPath = child(metaPath, field);
    if (!isRecord(map)) {
      out.push(finding(e, mapPath, 'schema-metadata', `${field} must be a map of strings`, `write ${field} as key: "value" pairs`));
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      const keyProblem = labelKeyProblem(key);
      const valueProblem = field === 'labels' ? labelValueProblem(value) : typeof value === 'string' ? undefined : `value ${JSON.stringify(value)} is not a string`;
      // Most keys and values are fine: the path is written only for a finding.
      if (!keyProblem && !valueProblem) continue;
      const p = child(mapPath, key);
      if (keyProblem) out.push(finding(e, p, 'schema-metadata', `invalid ${field === 'labels' ? 'label' : 'annotation'} key "${key}": ${keyProblem}`, 'use `prefix.example.com/name` with a short, lowercase prefix'));
      if (valueProblem) {
        out.push(finding(e, p, 'schema-metadata', `invalid ${field === 'labels' ? 'label' : 'annotation'} ${valueProblem}`,
          typeof value === 'string' ? 'shorten it or move it to an annotation' : 'quote the value in the chart (e.g. version: "1.2") so it renders as a string'));
      }
    }
  }
}

export function checkMetadata(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  const meta = e.obj.metadata;
  if (!isRecord(meta)) {
    return [finding(e, 'metadata', 'schema-metadata', 'the object has no metadata', 'every object needs metadata.name (and labels)')];
  }
  const kindKey = `${apiGroup(e.obj.apiVersion)}/${e.obj.kind}`;
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    out.push(finding(e, 'metadata.name', 'schema-metadata', 'metadata.name is missing',
      'set an explicit metadata.name (`bookedbarber-<component>`); generated names churn the PR diff'));
  } else if (LABEL_NAMED.has(kindKey)) {
    if (!validDnsLabel(name)) out.push(finding(e, 'metadata.name', 'schema-metadata', `${e.obj.kind} name "${name}" is not a DNS-1123 label (max 63 chars, lowercase alphanumerics and '-')`, 'shorten or lowercase the name'));
  } else if (PATH_SEGMENT_NAMED.has(kindKey)) {
    if (name === '.' || name === '..' || /[/%]/.test(name)) out.push(finding(e, 'metadata.name', 'schema-metadata', `${e.obj.kind} name "${name}" may not be '.' or '..' or contain '/' or '%'`, 'rename it'));
  } else if (!validDnsSubdomain(name)) {
    out.push(finding(e, 'metadata.name', 'schema-metadata', `name "${name}" is not a DNS-1123 subdomain (max 253 chars, lowercase alphanumerics, '-' and '.')`, 'lowercase the name and replace other characters with -'));
  }
  const ns = meta.namespace;
  if (ns !== undefined && (typeof ns !== 'string' || !validDnsLabel(ns))) {
    out.push(finding(e, 'metadata.namespace', 'schema-metadata', `namespace ${JSON.stringify(ns)} is not a DNS-1123 label`, 'use the namespace name as rendered by the namespaces chart'));
  }
  checkLabels(e, meta, 'metadata', out);
  for (const tpl of podTemplates(e.obj)) if (tpl.path) checkLabels(e, tpl.metadata, at(tpl, 'metadata'), out);
  return out;
}
