/**
 * Layer 4 — what a pod template says about itself and the keys it reads, which the API server or
 * the kubelet refuse at run time and no schema states:
 *
 * - `ref-volume-mount`: a volumeMount names a volume of the pod (the API server refuses the pod,
 *   so the controller never creates it: pkg/apis/core/validation validateVolumeMounts);
 * - `ref-probe-port`: an HTTP, TCP or gRPC probe's port given by name is one of the container's
 *   named ports (the kubelet cannot resolve it otherwise: readiness never passes, liveness
 *   restarts the container); a number needs no declaration and is not judged;
 * - `ref-config-key`: a configMapKeyRef / secretKeyRef key (and a volume's items[].key) exists in
 *   the ConfigMap rendered here, or among the keys the ExternalSecret producing the Secret writes
 *   (CreateContainerConfigError otherwise), unless the reference is optional;
 * - `ref-workload-selector`: a Deployment's, StatefulSet's, DaemonSet's or Rollout's selector
 *   selects its own pod template (the API server refuses it; a Rollout goes InvalidSpec).
 */
import { type Context, specOf } from './context';
import { child, item } from './paths';
import { containersOf, podTemplates } from './pod-templates';
import { podRefs } from './references';
import { labelSelectorMatches } from './selectors';
import { closest } from './suggest';
import { producedSecretName, writtenKeys } from './external-secrets';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from './types';

export function checkVolumeMounts(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    const volumes = new Set(asArray(tpl.spec.volumes).map((v) => (isRecord(v) ? v.name : undefined)).filter((n): n is string => typeof n === 'string'));
    // StatefulSet claims are volumes of its pods.
    if (isKind(e.obj, 'apps', 'StatefulSet')) for (const t of asArray(specOf(e.obj).volumeClaimTemplates)) if (isRecord(t) && isRecord(t.metadata) && typeof t.metadata.name === 'string') volumes.add(t.metadata.name);
    for (const c of containersOf(tpl)) {
      asArray(c.container.volumeMounts).forEach((m, i) => {
        if (!isRecord(m) || typeof m.name !== 'string' || volumes.has(m.name)) return;
        const guess = closest(m.name, [...volumes]);
        out.push(finding(e, `${item(`${c.path}.volumeMounts`, i)}.name`, 'ref-volume-mount', `volumeMount ${m.name} names no volume of the pod: the API server refuses the pod, so none is ever created`,
          guess ? `did you mean ${guess}?` : 'add the volume to the pod spec, or remove the mount'));
      });
    }
  }
  return out;
}

export function checkProbePorts(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    for (const c of containersOf(tpl)) {
      const ports = asArray(c.container.ports).filter(isRecord);
      const names = new Set(ports.map((p) => p.name).filter((n): n is string => typeof n === 'string'));
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        const spec = c.container[probe];
        if (!isRecord(spec)) continue;
        for (const handler of ['httpGet', 'tcpSocket', 'grpc'] as const) {
          const h = spec[handler];
          if (!isRecord(h) || h.port === undefined) continue;
          const port = h.port;
          // A name must be declared: the kubelet resolves it from the container's ports and fails
          // the probe when it cannot. A number needs no declaration (containerPort is
          // informational; the OpenTelemetry operator probes its health port 13133 undeclared
          // beside the declared OTLP ports, the same shape as a probe moved off the app's port),
          // so it is not judged.
          const ok = typeof port !== 'string' || names.has(port);
          if (ok) continue;
          const path = `${child(c.path, probe)}.${handler}.port`;
          const what = probe === 'readinessProbe' ? 'the pod never becomes ready' : probe === 'livenessProbe' ? 'the kubelet restarts the container again and again' : 'the container never starts';
          out.push(finding(e, path, 'ref-probe-port', `${probe} ${handler} port ${JSON.stringify(port)} is not one of container ${String(c.container.name)}'s ports (${[...names].join(', ') || 'none named'}): ${what}`,
            typeof port === 'string' && closest(port, [...names]) ? `did you mean ${closest(port, [...names])}?` : 'name one of the container\'s ports, or give the number'));
        }
      }
    }
  }
  return out;
}

/** Keys of a ConfigMap rendered in the scope, or of the Secret an ExternalSecret produces (undefined: unknown). */
function keysOf(ctx: Context, e: Entry, kind: 'ConfigMap' | 'Secret', name: string): Set<string> | undefined {
  const scope = ctx.scope(e);
  const ns = namespaceOf(e.obj) ?? '';
  if (kind === 'ConfigMap') {
    const cm = scope.named(ns, '', 'ConfigMap', name);
    if (!cm) return undefined;
    return new Set([...Object.keys(isRecord(cm.obj.data) ? cm.obj.data : {}), ...Object.keys(isRecord(cm.obj.binaryData) ? cm.obj.binaryData : {})]);
  }
  const es = scope.find(ns, 'external-secrets.io', 'ExternalSecret').find((x) => producedSecretName(x) === name);
  return es ? writtenKeys(es) : undefined;
}

export function checkConfigKeys(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    for (const ref of podRefs(tpl)) {
      if (ref.kind === 'ServiceAccount' || ref.optional || typeof ref.name !== 'string' || ref.keys.length === 0) continue;
      const keys = keysOf(ctx, e, ref.kind, ref.name);
      if (!keys) continue;
      for (const { key, path } of ref.keys) {
        if (typeof key !== 'string' || keys.has(key)) continue;
        const guess = closest(key, [...keys]);
        out.push(finding(e, path, 'ref-config-key', `${ref.kind} ${ref.name} has no key ${key}${ref.kind === 'Secret' ? ' (the keys its ExternalSecret writes)' : ''}: the container cannot start (CreateContainerConfigError)`,
          guess ? `did you mean ${guess}?` : `use one of ${[...keys].sort().join(', ') || 'its keys'}, or mark the reference optional: true`));
      }
    }
  }
  return out;
}

const SELECTED_KINDS: ReadonlyArray<readonly [string, string]> = [['apps', 'Deployment'], ['apps', 'StatefulSet'], ['apps', 'DaemonSet'], ['apps', 'ReplicaSet'], ['argoproj.io', 'Rollout']];

export function checkWorkloadSelector(e: Entry): RawFinding[] {
  if (!SELECTED_KINDS.some(([g, k]) => isKind(e.obj, g, k))) return [];
  const spec = specOf(e.obj);
  const template = isRecord(spec.template) ? spec.template : undefined;
  // A Rollout with workloadRef takes its template from the Deployment it names.
  if (!template || !isRecord(spec.selector)) return [];
  const labels = isRecord(template.metadata) && isRecord(template.metadata.labels) ? (template.metadata.labels as Record<string, string>) : {};
  if (labelSelectorMatches(spec.selector, labels)) return [];
  return [finding(e, 'spec.selector', 'ref-workload-selector', `spec.selector does not select the pod template's own labels: the API server refuses it${isKind(e.obj, 'argoproj.io', 'Rollout') ? ' (for a Rollout: InvalidSpec, nothing is rolled out)' : ''}`,
    'make every selector label (matchLabels and matchExpressions) hold for spec.template.metadata.labels')];
}
