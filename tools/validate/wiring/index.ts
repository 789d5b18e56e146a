/**
 * Layer 5 — the wiring check. For every connection the platform declares (see regions/wiring.ts),
 * in every region, walk it hop by hop over that region's rendered objects (walk.ts) and report
 * the first broken hop; then the reverse: every NetworkPolicy rule and ALLOW AuthorizationPolicy
 * rule must have carried at least one declared connection (an allow that serves nothing, or can
 * never match, is a wall with a door nobody uses, or a door painted on a wall). Gateways must
 * find their TLS Secret in the namespace of the gateway workload.
 *
 * Connections marked `knownBroken` are walked too; their first broken hop is a note, not a
 * finding, and a known-broken connection that now works is a finding (remove the mark).
 */
import type { Connection } from '../../../regions/wiring';
import { asArray, Entry, isRecord, nameOf, namespaceOf, RawFinding } from '../types';
import { Cluster } from './cluster';
import { allowRules as authzAllowRules } from './istio';
import { allowRules as netpolAllowRules } from './network-policy';
import { fmt, ruleKey, Walker, type Broken } from './walk';

/** The declared connections of one region (undefined: the region has no declaration to check). */
export type ConnectionsOf = (region: string) => readonly Connection[] | undefined;

export interface WiringResult {
  findings: RawFinding[];
  notes: string[];
}

const DECLARATION = 'charts/wiring/connections.ts';

function findingAt(region: string, c: Connection | undefined, b: Broken, fallback: Entry | undefined): RawFinding {
  const e = b.entry ?? fallback;
  const subject = c ? `${region} ${c.name} (${c.from.name} → ${targetName(c)})` : region;
  return {
    file: e?.file ?? DECLARATION,
    index: e?.index ?? 0,
    object: e ? `${e.obj.kind} ${namespaceOf(e.obj) ? `${namespaceOf(e.obj)}/` : ''}${nameOf(e.obj)}` : `connection ${c?.name ?? ''}`,
    path: b.path ?? '',
    rule: `wiring-${b.hop}`,
    message: `${subject}: ${b.message}`,
    hint: b.hint,
  };
}

function targetName(c: Connection): string {
  switch (c.to.kind) {
    case 'service': return `${c.to.host}:${c.to.port}`;
    case 'pod': return `${c.to.server.name} pods:${c.to.podPort}`;
    case 'external': return `${c.to.host}:${c.to.port}`;
    case 'kubernetes-api': return `kubernetes API:${c.to.port}`;
  }
}

/** Gateway servers name a TLS Secret: it must exist where the gateway workload runs. */
function gatewaySecrets(cluster: Cluster, region: string, connections: readonly Connection[]): RawFinding[] {
  const out: RawFinding[] = [];
  const addons = connections.flatMap((c) => [c.from, ...(c.to.kind === 'service' || c.to.kind === 'pod' ? [c.to.server] : [])]);
  for (const gw of cluster.all('networking.istio.io', 'Gateway')) {
    const spec = isRecord(gw.obj.spec) ? gw.obj.spec : {};
    const selector = isRecord(spec.selector) ? (spec.selector as Record<string, string>) : {};
    const workloadNs = [...new Set(addons.filter((p) => Object.entries(selector).every(([k, v]) => p.podLabels[k] === v)).map((p) => p.namespace))];
    asArray(spec.servers).forEach((server, i) => {
      const credential = isRecord(server) && isRecord(server.tls) ? server.tls.credentialName : undefined;
      if (typeof credential !== 'string') return;
      const at = (message: string, hint: string) =>
        out.push({ file: gw.file, index: gw.index, object: `Gateway ${namespaceOf(gw.obj)}/${nameOf(gw.obj)}`, path: `spec.servers[${i}].tls.credentialName`, rule: 'wiring-gateway-tls', message: `${region}: ${message}`, hint });
      if (workloadNs.length === 0) {
        at(`no declared gateway workload carries the selector ${fmt(selector)}, so the namespace of the TLS Secret ${credential} is unknown`, 'declare the gateway pods (peer with their labels and namespace)');
        return;
      }
      for (const ns of workloadNs) {
        const es = cluster.in(ns, 'external-secrets.io', 'ExternalSecret').some((e) => {
          const s = isRecord(e.obj.spec) ? e.obj.spec : {};
          return (isRecord(s.target) && typeof s.target.name === 'string' ? s.target.name : nameOf(e.obj)) === credential;
        });
        const cert = cluster.in(ns, 'cert-manager.io', 'Certificate').some((e) => isRecord(e.obj.spec) && e.obj.spec.secretName === credential);
        if (!es && !cert) at(`the gateway workload runs in ${ns}, and nothing renders its TLS Secret ${ns}/${credential} (Istio reads credentialName from the gateway's namespace: IST0161)`, `render an ExternalSecret or cert-manager Certificate named ${credential} in ${ns}`);
      }
    });
  }
  return out;
}

export function checkWiring(entries: Entry[], connectionsOf: ConnectionsOf): WiringResult {
  const findings: RawFinding[] = [];
  const notes: string[] = [];
  const global = entries.filter((e) => e.region === null);
  const regions = [...new Set(entries.map((e) => e.region).filter((r): r is string => r !== null))].sort();
  for (const region of regions) {
    const connections = connectionsOf(region);
    if (!connections) continue;
    const cluster = new Cluster([...entries.filter((e) => e.region === region), ...global]);
    const walker = new Walker(cluster);
    const used = new Set<string>();
    const fallback = entries.find((e) => e.region === region);
    for (const c of connections) {
      const result = walker.walk(c);
      for (const k of result.used) used.add(k);
      if (c.knownBroken) {
        if (result.broken) notes.push(`wiring: ${region} ${c.name}: known broken (${c.knownBroken}): ${result.broken.hop}: ${result.broken.message}`);
        else findings.push(findingAt(region, c, { hop: 'known-broken', message: `marked known broken (${c.knownBroken}) but every hop now works`, hint: `remove knownBroken from ${c.name} in ${DECLARATION}` }, fallback));
      } else if (result.broken) {
        findings.push(findingAt(region, c, result.broken, fallback));
      }
    }
    for (const r of netpolAllowRules(cluster)) {
      if (r.entry.region === null || used.has(ruleKey(r.entry, `spec.${r.direction}`, r.index))) continue;
      findings.push({
        file: r.entry.file, index: r.entry.index, object: `NetworkPolicy ${namespaceOf(r.entry.obj)}/${nameOf(r.entry.obj)}`, path: `spec.${r.direction}[${r.index}]`, rule: 'wiring-unused-allow',
        message: `${region}: this ${r.direction} rule carries none of the declared connections`, hint: `declare the connection it is for in ${DECLARATION}, or remove the rule (least privilege)`,
      });
    }
    for (const r of authzAllowRules(cluster)) {
      if (r.entry.region === null || used.has(ruleKey(r.entry, 'spec.rules', r.index))) continue;
      findings.push({
        file: r.entry.file, index: r.entry.index, object: `AuthorizationPolicy ${namespaceOf(r.entry.obj)}/${nameOf(r.entry.obj)}`, path: `spec.rules[${r.index}]`, rule: 'wiring-unused-allow',
        message: `${region}: this ALLOW rule matches none of the declared connections (a caller without a sidecar never matches a principal; a port outside the sidecar's capture never reaches it)`,
        hint: `declare the connection it is for in ${DECLARATION}, or remove the rule`,
      });
    }
    findings.push(...gatewaySecrets(cluster, region, connections));
    for (const p of walker.prerequisites) if (!notes.includes(`wiring: ${p}`)) notes.push(`wiring: ${p}`);
  }
  return { findings, notes };
}
