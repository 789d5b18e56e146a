/**
 * Rule `sidecar-quit-port`: a Job's container that ends its Istio sidecar itself (a pod with a
 * sidecar completes only when every container has exited) posts `/quitquitquit` to the port the
 * sidecar serves it on: pilot-agent's 15020 (which stops Envoy and itself; Envoy's admin port
 * 15000 has one too). 15021 serves health checks only, 15090 Envoy's statistics: the call fails
 * (and is usually `|| true`), the sidecar keeps running, the Job never completes, and whatever
 * waits on it (a canary analysis, a sync hook, a backup) times out. Literal addresses of the pod
 * itself (127.0.0.1, localhost, [::1]) in command, args and env values.
 */
import { containersOf, podTemplates, textsOfContainer } from '../pod-templates';
import { asArray, Entry, finding, isRecord, RawFinding } from '../types';

const QUIT = /\b(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)\/quitquitquit\b/g;
/** pilot-agent's status port and Envoy's admin port: both take /quitquitquit. */
const QUIT_PORTS = new Set([15020, 15000]);

export function checkSidecarQuitPort(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  // Most containers never mention it: looked for before their texts are listed with their paths.
  const mentions = (c: Record<string, any>) => [...asArray(c.command), ...asArray(c.args), ...asArray(c.env).map((v) => (isRecord(v) ? v.value : undefined))]
    .some((v) => typeof v === 'string' && v.includes('quitquitquit'));
  const texts = podTemplates(e.obj).flatMap((tpl) => containersOf(tpl, ['initContainers', 'containers']))
    .filter(({ container }) => mentions(container)).flatMap(({ container, path }) => textsOfContainer(container, path));
  for (const t of texts) {
    if (!t.text.includes('quitquitquit')) continue;
    for (const m of t.text.matchAll(QUIT)) {
      const port = Number(m[1]);
      if (QUIT_PORTS.has(port)) continue;
      out.push(finding(e, t.path, 'sidecar-quit-port', `${m[0]}: the Istio sidecar takes /quitquitquit on pilot-agent's port 15020, not ${port}: the sidecar keeps running after the main container exits, the pod never completes, and whatever waits on it times out`,
        `post to http://127.0.0.1:15020/quitquitquit`));
    }
  }
  return out;
}
