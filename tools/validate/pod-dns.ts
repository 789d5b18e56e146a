/**
 * Rule `pod-dns-name`: a pod's own DNS name, as a pod hands it out (`$(POD_NAME).<service>.<ns>
 * .svc.cluster.local`, with POD_NAME from the downward API's metadata.name: what Redis and
 * Sentinel announce, what a Patroni member advertises), exists. Cluster DNS gives a pod the name
 * `<hostname>.<subdomain>.<ns>.svc` only through the headless Service named by its subdomain,
 * which for a StatefulSet's pods is `spec.serviceName`. Any other Service there (another one, or a
 * ClusterIP one) leaves the name unresolvable: whoever it was announced to (Sentinel's clients,
 * the replicas) cannot connect. Judged in env values, args and commands; the Service must be
 * rendered headless when it is rendered at all.
 */
import type { Context } from './context';
import { specOf } from './context';
import { containersOf, podTemplates, textsOfContainer } from './pod-templates';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from './types';

const POD_NAME_IN_TEXT = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\b/g;

export function checkPodDnsNames(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const ns = namespaceOf(e.obj) ?? '';
  const statefulSet = isKind(e.obj, 'apps', 'StatefulSet');
  for (const tpl of podTemplates(e.obj)) {
    // The subdomain pods get: a StatefulSet's serviceName, else the template's own subdomain.
    const subdomain = statefulSet ? specOf(e.obj).serviceName : tpl.spec.subdomain;
    for (const ref of containersOf(tpl, ['initContainers', 'containers'])) {
      const podNameVars = new Set(asArray(ref.container.env).filter(isRecord)
        .filter((v) => isRecord(v.valueFrom) && isRecord(v.valueFrom.fieldRef) && v.valueFrom.fieldRef.fieldPath === 'metadata.name').map((v) => String(v.name)));
      if (podNameVars.size === 0) continue;
      for (const t of textsOfContainer(ref.container, ref.path)) {
        if (!t.text.includes('$(')) continue;
        for (const m of t.text.matchAll(POD_NAME_IN_TEXT)) {
          if (!podNameVars.has(m[1]!)) continue;
          const service = m[2]!;
          const namespace = m[4]!;
          let why: string | undefined;
          if (namespace !== ns) why = `pods of ${ns} are named in ${ns}, not ${namespace}`;
          else if (typeof subdomain !== 'string' || subdomain === '') why = `its pods have no subdomain (${statefulSet ? 'no serviceName' : 'a Deployment\'s pods get no per-pod name without hostname and subdomain'})`;
          else if (service !== subdomain) why = `its pods are named through ${subdomain} (${statefulSet ? 'the StatefulSet\'s serviceName' : 'their subdomain'}), not ${service}`;
          else {
            const svc = ctx.scope(e).named(ns, '', 'Service', service);
            if (svc && specOf(svc.obj).clusterIP !== 'None') why = `Service ${ns}/${service} has a cluster IP: only a headless Service gives pods names`;
          }
          if (!why) continue;
          out.push(finding(e, t.path, 'pod-dns-name', `${m[0]}: ${why}, so this name never resolves and whoever it is announced to cannot connect`,
            typeof subdomain === 'string' && subdomain !== '' && namespace === ns ? `use $(${m[1]}).${subdomain}.${ns}.svc.cluster.local` : 'name the pods through their headless governing Service'));
        }
      }
    }
  }
  return out;
}
