/**
 * Rule `ref-patroni-labels`: the labels Patroni's Kubernetes DCS works with agree with the pods
 * and Services rendered around it. A pod template that mounts a ConfigMap key `patroni.yml` (the
 * configuration Patroni starts with) is a Patroni member; its `kubernetes` section says
 *  - which pods are members: Patroni lists the pods carrying `labels` plus `scope_label: scope`
 *    (patroni/dcs/kubernetes.py, `_label_selector`). A pod template without them (a `cluster-name`
 *    edited on the pods, or `scope` edited in the file) is a member Patroni never sees: no
 *    replica is known, failover has no candidate;
 *  - which value Patroni writes into `role_label` on each member: `leader_label_value`,
 *    `standby_leader_label_value` (a DR site's leader), `follower_label_value`. A Service
 *    selecting that label with another value (Patroni 4 says `primary` where 3 said `master`;
 *    whichever this file sets is what counts) has no endpoints: the shard's writes or reads fail.
 * The values are judged only where the file sets all three (Patroni's defaults changed between
 * releases: master in 3.x, primary in 4.x). The Services judged are those of the member pods'
 * namespace whose other selector keys match the members' labels. Not judged: pods whose env
 * overrides these settings (PATRONI_SCOPE, PATRONI_KUBERNETES_LABELS, ..._ROLE_LABEL, ...: Patroni
 * reads its environment over the file), and Citus clusters (their selector adds the group label).
 */
import { type Context, specOf } from './context';
import { child } from './paths';
import { at, containersOf, podTemplates, type PodTemplate } from './pod-templates';
import { formatLabels } from './selectors';
import { type MountedFile, mountedFiles, parsedYaml } from './mounted-files';
import { asArray, Entry, finding, isKind, isRecord, labelsOf, namespaceOf, RawFinding } from './types';

const RULE = 'ref-patroni-labels';
const FILE = /(^|\/)patroni\.ya?ml$/;

interface PatroniLabels {
  readonly configMap: string;
  readonly scope?: string;
  readonly scopeLabel: string;
  readonly labels: Record<string, string>;
  readonly roleLabel: string;
  /** The role values Patroni writes, when the file sets all three. */
  readonly roleValues?: readonly string[];
}

/** The `kubernetes` section of a patroni.yml (Patroni's defaults where unset), or undefined. */
function patroniOf(file: MountedFile): PatroniLabels | undefined {
  const config = parsedYaml(file.text);
  if (!isRecord(config) || config.citus !== undefined) return undefined;
  const k8s = isRecord(config.kubernetes) ? config.kubernetes : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const values = [str(k8s.leader_label_value), str(k8s.standby_leader_label_value), str(k8s.follower_label_value)];
  return {
    configMap: String(file.configMap.obj.metadata?.name),
    scope: str(config.scope),
    scopeLabel: str(k8s.scope_label) ?? 'cluster-name',
    labels: Object.fromEntries(Object.entries(isRecord(k8s.labels) ? k8s.labels : {}).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
    roleLabel: str(k8s.role_label) ?? 'role',
    roleValues: values.every((v) => v !== undefined) ? [...new Set(values as string[])] : undefined,
  };
}

const ofTemplate = new WeakMap<PodTemplate, PatroniLabels | null>();

/** Environment variables through which Patroni takes these settings over the file (patroni/config.py). */
const OVERRIDES = /^PATRONI_(SCOPE|KUBERNETES_(LABELS|SCOPE_LABEL|ROLE_LABEL|LEADER_LABEL_VALUE|STANDBY_LEADER_LABEL_VALUE|FOLLOWER_LABEL_VALUE))$/;

function overridden(tpl: PodTemplate): boolean {
  return containersOf(tpl, ['containers']).some(({ container }) => asArray(container.env).some((env) => isRecord(env) && OVERRIDES.test(String(env.name))));
}

/** The Patroni configuration a pod template mounts, if any (every Service asks for every workload of its namespace). */
function patroniOfTemplate(tpl: PodTemplate, ns: string, ctx: Context, e: Entry): PatroniLabels | undefined {
  if (ofTemplate.has(tpl)) return ofTemplate.get(tpl) ?? undefined;
  let found: PatroniLabels | undefined;
  if (!overridden(tpl)) for (const file of mountedFiles(tpl, ns, ctx, e)) {
    if (FILE.test(file.key) && (found = patroniOf(file))) break;
  }
  ofTemplate.set(tpl, found ?? null);
  return found;
}

export function checkPatroniLabels(e: Entry, ctx: Context): RawFinding[] {
  const ns = namespaceOf(e.obj) ?? '';
  if (isKind(e.obj, '', 'Service')) return checkService(e, ns, ctx);
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    const p = patroniOfTemplate(tpl, ns, ctx, e);
    if (!p) continue;
    const labels = labelsOf(tpl.metadata);
    const wanted: Record<string, string> = { ...p.labels, ...(p.scope !== undefined ? { [p.scopeLabel]: p.scope } : {}) };
    const missing = Object.entries(wanted).filter(([k, v]) => labels[k] !== v);
    if (missing.length === 0) continue;
    out.push(finding(e, at(tpl, 'metadata.labels'), RULE,
      `Patroni (ConfigMap ${p.configMap}) finds its members by ${formatLabels(wanted)}, and these pods have ${missing.map(([k]) => `${k}=${labels[k] === undefined ? '(none)' : String(labels[k])}`).join(', ')}: a member Patroni never sees (no replica known, no failover candidate)`,
      `label the pods ${missing.map(([k, v]) => `${k}: ${v}`).join(', ')}, or set scope and kubernetes.labels in ${p.configMap} to what the pods carry`));
  }
  return out;
}

function checkService(e: Entry, ns: string, ctx: Context): RawFinding[] {
  const selector = isRecord(specOf(e.obj).selector) ? specOf(e.obj).selector as Record<string, unknown> : undefined;
  if (!selector) return [];
  const out: RawFinding[] = [];
  const judged = new Set<string>();
  for (const w of ctx.scope(e).workloadsIn(ns)) {
    const p = patroniOfTemplate(w.tpl, ns, ctx, w.entry);
    if (!p || !p.roleValues || !(p.roleLabel in selector) || judged.has(p.roleLabel)) continue;
    // This Service is for these members: its other keys match their labels.
    if (!Object.entries(selector).every(([k, v]) => k === p.roleLabel || w.podLabels[k] === v)) continue;
    judged.add(p.roleLabel);
    const value = selector[p.roleLabel];
    if (typeof value === 'string' && p.roleValues.includes(value)) continue;
    out.push(finding(e, child('spec.selector', p.roleLabel), RULE,
      `${p.roleLabel}: ${String(value)} is a value Patroni never writes (ConfigMap ${p.configMap} labels its members ${p.roleValues.join(' or ')}): the Service has no endpoints`,
      `select one of ${p.roleValues.join(', ')}`));
  }
  return out;
}
