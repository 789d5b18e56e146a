/**
 * What the run-to-completion pods (the shards' topology Jobs, the release gates' analysis Jobs)
 * share: a meshed pod whose sidecar must be told to quit, and a hardened pod template turned
 * into a Job's.
 */
import type { k8s } from 'cdk8s-plus-28';

/**
 * A script line that asks the istio-proxy sidecar to quit when the script exits: otherwise the
 * sidecar keeps the pod running and the Job never completes. With native sidecars (Istio
 * ENABLE_NATIVE_SIDECARS on Kubernetes >= 1.29) the call is a harmless no-op.
 */
export function quitSidecarOnExit(client: 'curl' | 'busybox-wget'): string {
  const post = client === 'curl' ? 'curl -fsS -X POST' : 'wget -q -O /dev/null --post-data ""';
  // The trap does not change the script's exit status, which is what the Job is judged by.
  return `trap '${post} http://127.0.0.1:15020/quitquitquit >/dev/null 2>&1 || true' EXIT`;
}

/**
 * A hardened pod template (which requires probes of serving containers) as a Job's: no probes,
 * never restarted in place (the Job retries), and no zone spread (one pod: spread means nothing,
 * and DoNotSchedule could only delay it).
 */
export function runToCompletion(template: k8s.PodTemplateSpec): k8s.PodTemplateSpec {
  const spec = template.spec!;
  return {
    metadata: template.metadata,
    spec: {
      ...spec,
      restartPolicy: 'Never',
      containers: spec.containers.map(({ livenessProbe: _l, readinessProbe: _r, ...c }) => c),
      topologySpreadConstraints: undefined,
    },
  };
}
