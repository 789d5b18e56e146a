/**
 * Risk flags: the differences a reviewer must see before anything else. Each rule looks at one
 * object-level difference (added, removed or changed object with its field changes).
 */
import { formatPath, type FieldChange, type Segment } from './compare';
import type { ObjectDelta } from './diff';
import { compareText, type KubeObject } from './tree';
import { ARGOCD_SYNC_OPTIONS, KEEP_ON_PRUNE_OPTIONS } from '../../charts/lib/metadata';

export const RISK_RULES = {
  // First: a regional failover of a shard moves where its writes go, in every region at once.
  'shard-topology': 'Postgres shard promoted or demoted, its writes routed to another region, or franchise IDs moved to another shard',
  'stateful-deleted': 'StatefulSet, PersistentVolumeClaim or Namespace deleted or replaced',
  'stateful-prune': 'Argo CD may now prune or delete stateful data (Prune=false / Delete=false removed)',
  'volume-claim-templates': 'volumeClaimTemplates changed (Kubernetes refuses the update)',
  'image-version': 'Image or version changed',
  replicas: 'Replicas or autoscaling bounds changed',
  'cost-increase': 'Monthly estimate at max scale raised by more than pricing.riskIncreasePercent',
  'cost-unknown': 'Region changed or added without a price table: its cost is not estimated',
  'security-context': 'securityContext weakened',
  'network-policy': 'NetworkPolicy removed or widened',
  'authorization-policy': 'AuthorizationPolicy removed or widened',
  'peer-authentication': 'PeerAuthentication not STRICT or removed',
  rollout: 'Rollout strategy or analysis threshold changed',
} as const;

export type RiskRule = keyof typeof RISK_RULES;

export interface Risk {
  readonly rule: RiskRule;
  readonly region: string;
  /** "Kind namespace/name". */
  readonly object: string;
  readonly detail: string;
}

const RULE_ORDER = Object.keys(RISK_RULES) as RiskRule[];
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout', 'Job', 'CronJob', 'ReplicaSet', 'Pod']);

export function show(value: unknown): string {
  if (value === undefined) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function label(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

function arrow(c: FieldChange): string {
  return `\`${c.path}\`: ${show(c.before)} → ${show(c.after)}`;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function get(o: unknown, ...keys: string[]): unknown {
  let v: unknown = o;
  for (const k of keys) v = isObj(v) ? v[k] : undefined;
  return v;
}

function startsWith(segments: readonly Segment[], ...prefix: string[]): boolean {
  return prefix.every((p, i) => segments[i] === p);
}

/** The sync options an object's `argocd.argoproj.io/sync-options` annotation sets. */
function syncOptions(o: KubeObject | undefined): string[] {
  const v = get(o, 'metadata', 'annotations', ARGOCD_SYNC_OPTIONS);
  return typeof v === 'string' ? v.split(',').map((x) => x.trim()) : [];
}

// ---- securityContext ---------------------------------------------------------------------

interface ScNode {
  readonly kind: 'pod' | 'container';
  readonly node: Record<string, unknown>;
}

/** Every pod spec (has `containers`) and container (has `image`) in an object, by path. */
function securityNodes(root: unknown): Map<string, ScNode> {
  const out = new Map<string, ScNode>();
  const visit = (v: unknown, segs: Segment[]): void => {
    if (Array.isArray(v)) {
      const names = v.every((i) => isObj(i) && typeof i.name === 'string') && new Set(v.map((i) => (i as { name: string }).name)).size === v.length;
      v.forEach((item, i) => {
        segs.push(names ? { name: (item as { name: string }).name } : i);
        visit(item, segs);
        segs.pop();
      });
      return;
    }
    if (!isObj(v)) return;
    if (Array.isArray(v.containers)) out.set(formatPath(segs), { kind: 'pod', node: v });
    else if (typeof v.image === 'string' && segs.length > 0) out.set(formatPath(segs), { kind: 'container', node: v });
    for (const k of Object.keys(v)) {
      if (k === 'securityContext') continue;
      segs.push(k);
      visit(v[k], segs);
      segs.pop();
    }
  };
  visit(root, []);
  return out;
}

function weakenings(before: ScNode | undefined, after: ScNode): string[] {
  const o = (isObj(before?.node.securityContext) ? before!.node.securityContext : {}) as Record<string, unknown>;
  const n = (isObj(after.node.securityContext) ? after.node.securityContext : {}) as Record<string, unknown>;
  const found: string[] = [];
  const field = (k: string, from: unknown, to: unknown) => found.push(`securityContext.${k}: ${show(from)} → ${show(to)}`);
  if (o.runAsNonRoot === true && n.runAsNonRoot !== true) field('runAsNonRoot', o.runAsNonRoot, n.runAsNonRoot);
  if (!before && n.runAsNonRoot === false) field('runAsNonRoot', undefined, false);
  if (n.runAsUser === 0 && o.runAsUser !== 0) field('runAsUser', o.runAsUser, 0);
  if (n.privileged === true && o.privileged !== true) field('privileged', o.privileged, true);
  if ((o.allowPrivilegeEscalation === false && n.allowPrivilegeEscalation !== false) || (n.allowPrivilegeEscalation === true && o.allowPrivilegeEscalation !== true)) {
    field('allowPrivilegeEscalation', o.allowPrivilegeEscalation, n.allowPrivilegeEscalation);
  }
  if (o.readOnlyRootFilesystem === true && n.readOnlyRootFilesystem !== true) field('readOnlyRootFilesystem', o.readOnlyRootFilesystem, n.readOnlyRootFilesystem);
  const list = (sc: Record<string, unknown>, k: string): string[] => {
    const v = get(sc, 'capabilities', k);
    return Array.isArray(v) ? v.map(String) : [];
  };
  const dropGone = list(o, 'drop').filter((c) => !list(n, 'drop').includes(c));
  if (dropGone.length > 0) found.push(`securityContext.capabilities.drop no longer drops ${dropGone.join(', ')}`);
  const addNew = list(n, 'add').filter((c) => !list(o, 'add').includes(c));
  if (addNew.length > 0) found.push(`securityContext.capabilities.add adds ${addNew.join(', ')}`);
  const st = (sc: Record<string, unknown>) => get(sc, 'seccompProfile', 'type') as string | undefined;
  if ((st(o) !== undefined && st(n) === undefined) || (st(n) === 'Unconfined' && st(o) !== 'Unconfined')) field('seccompProfile.type', st(o), st(n));
  if (after.kind === 'pod') {
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) {
      if (after.node[k] === true && before?.node[k] !== true) found.push(`${k}: ${show(before?.node[k])} → true`);
    }
  }
  return found;
}

function securityRisks(d: ObjectDelta): string[] {
  if (!d.after) return [];
  const before = d.before ? securityNodes(d.before) : new Map<string, ScNode>();
  const out: string[] = [];
  for (const [path, node] of securityNodes(d.after)) {
    for (const w of weakenings(before.get(path), node)) out.push(`${path ? `${path}: ` : ''}${w}`);
  }
  return out;
}

// ---- policies ----------------------------------------------------------------------------

function hasRules(o: KubeObject, ...keys: string[]): boolean {
  return keys.some((k) => {
    const v = get(o, 'spec', k);
    return Array.isArray(v) && v.length > 0;
  });
}

function networkPolicyWidening(d: ObjectDelta): string[] {
  const out: string[] = [];
  for (const c of d.changes) {
    const s = c.segments;
    if (startsWith(s, 'spec', 'podSelector')) out.push(`${arrow(c)} (applies to other pods)`);
    else if (startsWith(s, 'spec', 'policyTypes') && c.before !== undefined && !(Array.isArray(get(d.after, 'spec', 'policyTypes')) && (get(d.after, 'spec', 'policyTypes') as unknown[]).includes(c.before))) {
      out.push(`policy type ${show(c.before)} no longer enforced`);
    } else if (s[0] === 'spec' && (s[1] === 'ingress' || s[1] === 'egress')) {
      if (s.length === 2) out.push(c.after === undefined ? `all ${s[1]} rules removed` : `${s[1]} rules added`);
      else if (s.length === 3 && c.before === undefined) out.push(`${s[1]} rule added: ${show(c.after)}`);
      else if (s.length >= 4) {
        const part = s[3];
        const added = c.before === undefined;
        const removed = c.after === undefined;
        if ((part === 'from' || part === 'to' || part === 'ports') && s.length === 4 && removed) {
          out.push(`\`${c.path}\` removed (${part === 'ports' ? 'all ports' : 'any peer'})`);
        } else if (part === 'ports' && s.length === 5 && added) out.push(`\`${c.path}\` port added: ${show(c.after)}`);
        else if ((part === 'from' || part === 'to') && s.length === 5 && added) out.push(`\`${c.path}\` peer added: ${show(c.after)}`);
        else if (part === 'from' || part === 'to' || part === 'ports') {
          if (removed) out.push(`\`${c.path}\` removed: ${show(c.before)} (wider)`);
          else if (!added) out.push(arrow(c));
        }
      }
    }
  }
  return out;
}

function authorizationWidening(d: ObjectDelta): string[] {
  const out: string[] = [];
  for (const c of d.changes) {
    const s = c.segments;
    if (startsWith(s, 'spec', 'action') || startsWith(s, 'spec', 'selector') || startsWith(s, 'spec', 'targetRefs') || startsWith(s, 'spec', 'provider')) out.push(arrow(c));
    else if (startsWith(s, 'spec', 'rules')) {
      if (c.before === undefined) out.push(`\`${c.path}\` added: ${show(c.after)}`);
      else if (c.after === undefined) out.push(`\`${c.path}\` removed: ${show(c.before)}`);
      else out.push(arrow(c));
    }
  }
  return out;
}

function mtlsModes(o: KubeObject | undefined): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  if (!o) return m;
  m.set('spec.mtls.mode', get(o, 'spec', 'mtls', 'mode') as string | undefined);
  const ports = get(o, 'spec', 'portLevelMtls');
  if (isObj(ports)) for (const [p, v] of Object.entries(ports)) m.set(`spec.portLevelMtls[${p}].mode`, get(v, 'mode') as string | undefined);
  return m;
}

// ---- the rules ---------------------------------------------------------------------------

const ANALYSIS_FIELDS = new Set(['successCondition', 'failureCondition', 'failureLimit', 'inconclusiveLimit', 'consecutiveErrorLimit', 'count', 'interval', 'initialDelay']);

function risksOf(d: ObjectDelta): Array<{ rule: RiskRule; detail: string }> {
  const out: Array<{ rule: RiskRule; detail: string }> = [];
  const add = (rule: RiskRule, detail: string) => out.push({ rule, detail });
  const o = (d.after ?? d.before)!;
  const kind = o.kind;
  const removed = d.before && !d.after;
  const added = d.after && !d.before;

  // Deleted or replaced stateful objects.
  if (removed && (kind === 'StatefulSet' || kind === 'PersistentVolumeClaim' || kind === 'Namespace')) {
    add('stateful-deleted', d.renamed?.to ? `replaced: renamed to ${d.renamed.to} (the old one and its data go away)` : 'deleted');
  }
  if (kind === 'StatefulSet' && d.before && d.after) {
    if (d.before.apiVersion !== d.after.apiVersion) add('stateful-deleted', `apiVersion ${d.before.apiVersion} → ${d.after.apiVersion}`);
    for (const c of d.changes) {
      if (startsWith(c.segments, 'spec', 'selector') || startsWith(c.segments, 'spec', 'serviceName') || startsWith(c.segments, 'spec', 'podManagementPolicy')) {
        add('stateful-deleted', `immutable field changed, needs delete and re-create: ${arrow(c)}`);
      }
      if (startsWith(c.segments, 'spec', 'volumeClaimTemplates')) add('volume-claim-templates', arrow(c));
    }
  }
  // Argo CD's guard on stateful data (KEEP_ON_PRUNE, charts/lib/metadata.ts) dropped.
  if (d.before && d.after && (kind === 'StatefulSet' || kind === 'PersistentVolumeClaim' || kind === 'Namespace')) {
    const gone = KEEP_ON_PRUNE_OPTIONS.filter((o) => syncOptions(d.before).includes(o) && !syncOptions(d.after).includes(o));
    if (gone.length > 0) {
      add('stateful-prune', `\`metadata.annotations[${ARGOCD_SYNC_OPTIONS}]\`: ${show(get(d.before, 'metadata', 'annotations', ARGOCD_SYNC_OPTIONS))} → ${show(get(d.after, 'metadata', 'annotations', ARGOCD_SYNC_OPTIONS))} (no longer ${gone.join(', ')}: a sync may prune it, deleting the Application deletes it)`);
    }
  }
  if (kind === 'PersistentVolumeClaim' && d.before && d.after) {
    for (const c of d.changes) if (c.segments[0] === 'spec') add('stateful-deleted', `PVC spec changed (mostly immutable): ${arrow(c)}`);
  }

  // Images and versions.
  for (const c of d.changes) {
    const last = c.segments[c.segments.length - 1];
    if (last === 'image' && c.before !== undefined && c.after !== undefined) add('image-version', arrow(c));
    if (WORKLOAD_KINDS.has(kind) && startsWith(c.segments, 'metadata', 'labels', 'app.kubernetes.io/version')) add('image-version', arrow(c));
  }

  // Replicas and autoscaling bounds.
  for (const c of d.changes) {
    if (startsWith(c.segments, 'spec', 'replicas') && c.segments.length === 2) add('replicas', arrow(c));
    if (kind === 'HorizontalPodAutoscaler' && (startsWith(c.segments, 'spec', 'minReplicas') || startsWith(c.segments, 'spec', 'maxReplicas'))) add('replicas', arrow(c));
    if (kind === 'HorizontalPodAutoscaler' && startsWith(c.segments, 'spec', 'scaleTargetRef')) add('replicas', arrow(c));
  }
  if (removed && kind === 'HorizontalPodAutoscaler' && !d.renamed?.to) add('replicas', 'HorizontalPodAutoscaler removed');

  // securityContext.
  for (const w of securityRisks(d)) add('security-context', w);

  // NetworkPolicy.
  if (kind === 'NetworkPolicy') {
    if (removed && !d.renamed?.to) add('network-policy', 'removed');
    if (added && d.regionInBoth && !d.renamed?.from && hasRules(o, 'ingress', 'egress')) add('network-policy', 'added: allows new traffic');
    if (d.before && d.after) for (const w of networkPolicyWidening(d)) add('network-policy', w);
  }

  // AuthorizationPolicy.
  if (kind === 'AuthorizationPolicy') {
    if (removed && !d.renamed?.to) add('authorization-policy', 'removed');
    const action = (get(o, 'spec', 'action') as string | undefined) ?? 'ALLOW';
    if (added && d.regionInBoth && !d.renamed?.from && action === 'ALLOW') add('authorization-policy', 'added: allows new requests');
    if (d.before && d.after) for (const w of authorizationWidening(d)) add('authorization-policy', w);
  }

  // PeerAuthentication.
  if (kind === 'PeerAuthentication') {
    if (removed && !d.renamed?.to) add('peer-authentication', 'removed');
    const before = mtlsModes(d.before);
    for (const [path, mode] of mtlsModes(d.after)) {
      if (path === 'spec.mtls.mode' && mode === undefined) {
        if (before.get(path) !== undefined) add('peer-authentication', `\`${path}\`: ${show(before.get(path))} → (none, inherits)`);
        continue;
      }
      if (mode !== 'STRICT' && before.get(path) !== mode) add('peer-authentication', `\`${path}\`: ${show(before.get(path))} → ${show(mode)}`);
    }
  }

  // Rollout strategy and analysis thresholds.
  if (d.before && d.after) {
    const strategyKey = kind === 'Rollout' || kind === 'Deployment' ? 'strategy' : kind === 'StatefulSet' || kind === 'DaemonSet' ? 'updateStrategy' : undefined;
    if (strategyKey) {
      for (const c of d.changes) {
        if (!startsWith(c.segments, 'spec', strategyKey)) continue;
        // The analysis arguments carry the revision (version + config hash): they change with every release.
        const argIndex = c.segments.indexOf('args');
        if (argIndex !== -1 && c.segments[c.segments.length - 1] === 'value') continue;
        add('rollout', arrow(c));
      }
    }
    if (kind === 'AnalysisTemplate' || kind === 'ClusterAnalysisTemplate') {
      for (const c of d.changes) {
        if (!startsWith(c.segments, 'spec', 'metrics')) continue;
        const field = c.segments[3];
        if (c.segments.length === 3 || c.segments.length === 2 || (typeof field === 'string' && ANALYSIS_FIELDS.has(field))) {
          add('rollout', c.segments.length <= 3 ? `\`${c.path}\` ${c.after === undefined ? 'removed' : c.before === undefined ? 'added' : 'changed'}` : arrow(c));
        }
      }
    }
  }
  if (removed && (kind === 'AnalysisTemplate' || kind === 'ClusterAnalysisTemplate') && !d.renamed?.to) add('rollout', 'analysis template removed');
  for (const detail of shardTopologyRisks(d)) add('shard-topology', detail);
  return out;
}

// ---- shard topology ----------------------------------------------------------------------

/** The role a Postgres site's topology Job sets (EXPECTED_ROLE: primary or standby-leader). */
function expectedRole(o: KubeObject | undefined): string | undefined {
  const containers = get(o, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers)) return undefined;
  for (const c of containers) {
    const env = get(c, 'env');
    if (!Array.isArray(env)) continue;
    const found = env.find((e) => get(e, 'name') === 'EXPECTED_ROLE');
    if (found) return get(found, 'value') as string | undefined;
  }
  return undefined;
}

/** The shard entries of a routing-map ConfigMap (any JSON data value with a `shards` list). */
function routingShards(o: KubeObject | undefined): unknown[] {
  const data = get(o, 'data');
  if (!isObj(data)) return [];
  const out: unknown[] = [];
  for (const text of Object.values(data)) {
    if (typeof text !== 'string' || !text.includes('"shards"')) continue;
    try {
      const shards = get(JSON.parse(text), 'shards');
      if (Array.isArray(shards)) out.push(...shards);
    } catch {
      // Not JSON: not a routing map.
    }
  }
  return out;
}

/** Read-write host of every shard in a routing map. */
function shardWriteHosts(o: KubeObject | undefined): Map<number, string> {
  return new Map(routingShards(o).map((s) => [Number(get(s, 'shard')), String(get(s, 'readWrite', 'host'))]));
}

/** Franchise ranges of every shard in a routing map: [first, last, shard]. */
function franchiseRanges(o: KubeObject | undefined): Array<[number, number, number]> {
  return routingShards(o).flatMap((s) => {
    const [first, last, shard] = [get(s, 'first'), get(s, 'last'), get(s, 'shard')];
    return typeof first === 'number' && typeof last === 'number' && typeof shard === 'number' ? [[first, last, shard] as [number, number, number]] : [];
  });
}

/**
 * Franchise IDs whose shard changes between two routing maps, as `a..b: shard X → shard Y`
 * (adjacent IDs with the same move merged). Their rows are on the old shard: the API reads and
 * writes the new one as soon as the map syncs, so the data must be copied first.
 */
function franchiseMoves(before: Array<[number, number, number]>, after: Array<[number, number, number]>): string[] {
  if (before.length === 0 || after.length === 0) return [];
  const owner = (ranges: Array<[number, number, number]>, id: number) => ranges.find(([f, l]) => f <= id && id <= l)?.[2];
  const cuts = [...new Set([...before, ...after].flatMap(([f, l]) => [f, l + 1]))].sort((a, b) => a - b);
  const moves: Array<{ first: number; last: number; from?: number; to?: number }> = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [first, last] = [cuts[i]!, cuts[i + 1]! - 1];
    const [from, to] = [owner(before, first), owner(after, first)];
    if (from === to) continue;
    const prev = moves[moves.length - 1];
    if (prev && prev.last + 1 === first && prev.from === from && prev.to === to) prev.last = last;
    else moves.push({ first, last, from, to });
  }
  const shard = (n: number | undefined) => (n === undefined ? 'no shard' : `shard ${n}`);
  const why = (m: (typeof moves)[number]) =>
    m.from === undefined
      ? 'new franchise IDs: nothing to copy'
      : m.to === undefined
        ? 'their rows stay on the old shard, which the API no longer reads for them'
        : 'their rows must be copied to the new shard before this syncs';
  return moves.map((m) => `franchises ${m.first}..${m.last}: ${shard(m.from)} → ${shard(m.to)} (${why(m)})`);
}

/**
 * A promotion moves a shard's writes to another region: the topology Job of a site flips between
 * primary and standby leader, and the routing maps send the shard's read-write pool elsewhere.
 */
function shardTopologyRisks(d: ObjectDelta): string[] {
  const o = (d.after ?? d.before)!;
  if (o.kind === 'Job') {
    const before = expectedRole(d.before);
    const after = expectedRole(d.after);
    if (before !== undefined && after !== undefined && before !== after) {
      return [`site role ${before} → ${after}: ${after === 'primary' ? 'this site is promoted and takes writes' : 'this site is demoted to a standby cluster'}`];
    }
    return [];
  }
  if (o.kind !== 'ConfigMap' || !d.before || !d.after) return [];
  const before = shardWriteHosts(d.before);
  const out: string[] = [];
  for (const [shard, host] of shardWriteHosts(d.after)) {
    const was = before.get(shard);
    if (was !== undefined && was !== host) out.push(`shard ${shard} writes: ${was} → ${host}`);
  }
  out.push(...franchiseMoves(franchiseRanges(d.before), franchiseRanges(d.after)));
  return out;
}

export function findRisks(deltas: readonly ObjectDelta[]): Risk[] {
  const risks: Risk[] = [];
  for (const d of deltas) {
    const object = label((d.after ?? d.before)!);
    const seen = new Set<string>();
    for (const r of risksOf(d)) {
      const k = `${r.rule}\u0000${r.detail}`;
      if (seen.has(k)) continue;
      seen.add(k);
      risks.push({ rule: r.rule, region: d.region, object, detail: r.detail });
    }
  }
  return risks.sort(
    (a, b) => RULE_ORDER.indexOf(a.rule) - RULE_ORDER.indexOf(b.rule) || compareText(a.region, b.region) || compareText(a.object, b.object) || compareText(a.detail, b.detail),
  );
}
