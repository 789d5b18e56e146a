/**
 * Small rules about values that must agree with where an object runs, each a hand edit that
 * applies cleanly and fails only in the cluster:
 *  - `dns-region`: a DNSEndpoint of a region folder answers for that region: a record's
 *    setIdentifier names no other region, its `aws/region` is the folder's, and a load balancer
 *    target (`*.elb.<region>.amazonaws.com`, `*.<region>.elb.amazonaws.com`) is in it. Another
 *    region's values make two regions' external-dns overwrite one record, or send this region's
 *    users elsewhere.
 *  - `patroni-namespace`: Patroni's `PATRONI_KUBERNETES_NAMESPACE`, given literally, is the pod's
 *    own namespace: Patroni keeps its leader lock and member state there, under the Role bound in
 *    the pod's namespace; elsewhere it has no rights and the shard gets no leader.
 *  - `drain-grace`: a pod's terminationGracePeriodSeconds outlasts the sidecar's
 *    terminationDrainDuration (proxy.istio.io/config): otherwise the kubelet kills the proxy
 *    while it still drains, and in-flight requests are reset on every scale-down and release.
 */
import { item } from '../paths';
import { containersOf, podTemplates, at } from '../pod-templates';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from '../types';

/** A cloud region id inside a text (us-east-1, ap-southeast-2). */
const REGION_TOKEN = /\b[a-z]{2}-[a-z]+-[0-9]\b/;

export function checkDnsRegion(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'externaldns.k8s.io', 'DNSEndpoint') || e.region === null) return [];
  const region = e.region;
  const out: RawFinding[] = [];
  asArray(isRecord(e.obj.spec) ? e.obj.spec.endpoints : undefined).forEach((ep, i) => {
    if (!isRecord(ep)) return;
    const base = item('spec.endpoints', i);
    // An identifier naming another region (us-east-1-blue is this region's; us-west-2 is not).
    const named = typeof ep.setIdentifier === 'string' ? REGION_TOKEN.exec(ep.setIdentifier)?.[0] : undefined;
    if (named !== undefined && named !== region) {
      out.push(finding(e, `${base}.setIdentifier`, 'dns-region', `setIdentifier ${String(ep.setIdentifier)} in ${region}'s folder: ${named} writes a record of that name and identifier too, and each region's external-dns overwrites the other's (Route 53 keeps one record per name, type and identifier)`, `use ${region}`));
    }
    asArray(ep.providerSpecific).forEach((p, j) => {
      if (isRecord(p) && p.name === 'aws/region' && typeof p.value === 'string' && p.value !== region) {
        out.push(finding(e, `${item(`${base}.providerSpecific`, j)}.value`, 'dns-region', `aws/region ${p.value} in ${region}'s folder: the latency record would answer for ${p.value}'s users`, `use ${region}`));
      }
    });
    asArray(ep.targets).forEach((t, j) => {
      // NLB names (…elb.<region>.amazonaws.com) and ALB/classic ones (….<region>.elb.amazonaws.com).
      const m = typeof t === 'string' ? /\.elb\.([a-z0-9-]+)\.amazonaws\.com\.?$/.exec(t) ?? /\.([a-z]{2}-[a-z]+-[0-9])\.elb\.amazonaws\.com\.?$/.exec(t) : null;
      if (m && m[1] !== region) {
        out.push(finding(e, item(`${base}.targets`, j), 'dns-region', `a load balancer in ${m[1]} as ${region}'s target: ${region}'s users are sent to another region, and its health check no longer watches what it answers with`, `use ${region}'s ingress load balancer (regions/${region}.yaml dns.ingressLoadBalancer)`));
      }
    });
  });
  return out;
}

export function checkPatroniNamespace(e: Entry): RawFinding[] {
  const ns = namespaceOf(e.obj);
  if (!ns) return [];
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    for (const c of containersOf(tpl)) {
      asArray(c.container.env).forEach((env, i) => {
        // $(VAR) is expanded by the kubelet from the container's other variables: not judged.
        if (!isRecord(env) || env.name !== 'PATRONI_KUBERNETES_NAMESPACE' || typeof env.value !== 'string' || env.value === ns || env.value.includes('$(')) return;
        out.push(finding(e, `${item(`${c.path}.env`, i)}.value`, 'patroni-namespace', `Patroni would keep its leader lock in namespace ${env.value}, not its own (${ns}), where its Role does not reach: the cluster gets no leader`,
          'take it from the downward API (valueFrom.fieldRef metadata.namespace), or write the pod\'s namespace'));
      });
    }
  }
  return out;
}

/** Seconds of a Go duration as Istio writes them (`25s`, `1m30s`, `500ms`). */
function seconds(text: string): number | undefined {
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[unit!]!, 0);
}

export function checkDrainGrace(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    const annotations = isRecord(tpl.metadata.annotations) ? tpl.metadata.annotations : {};
    const raw = annotations['proxy.istio.io/config'];
    if (typeof raw !== 'string') continue;
    let config: unknown;
    try {
      config = JSON.parse(raw);
    } catch {
      continue; // YAML form: not ours to parse here
    }
    const drain = isRecord(config) && typeof config.terminationDrainDuration === 'string' ? seconds(config.terminationDrainDuration) : undefined;
    if (drain === undefined) continue;
    const grace = typeof tpl.spec.terminationGracePeriodSeconds === 'number' ? tpl.spec.terminationGracePeriodSeconds : 30;
    if (grace > drain) continue;
    out.push(finding(e, at(tpl, 'spec.terminationGracePeriodSeconds'), 'drain-grace', `terminationGracePeriodSeconds ${grace} is not longer than the sidecar's terminationDrainDuration (${drain} s): the kubelet kills the proxy mid-drain, and in-flight requests are reset on every scale-down and release`,
      `raise it above ${drain} s (the drain plus a few seconds), or shorten the drain`));
  }
  return out;
}
