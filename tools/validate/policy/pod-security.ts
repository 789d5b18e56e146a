/**
 * Rule `pod-security`: Pod Security Standards "restricted" (Kubernetes 1.28), the level our
 * namespaces enforce. Checked here because the admission controller only rejects the
 * *pods*: the Deployment applies fine and its ReplicaSet then silently fails to create any.
 */
import { child, item } from '../paths';
import { at, containerLabel, containersOf, podTemplates } from '../pod-templates';
import { asArray, Entry, finding, isRecord, RawFinding } from '../types';

const RULE = 'pod-security';
const ALLOWED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SECCOMP = ['RuntimeDefault', 'Localhost'];
const HARDENED = 'the hardened pod defaults in charts/lib set runAsNonRoot, seccompProfile RuntimeDefault, allowPrivilegeEscalation: false and capabilities.drop: [ALL]';

export function checkPodSecurity(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  const push = (path: string, message: string, hint: string) => out.push(finding(e, path, RULE, message, hint));
  for (const tpl of podTemplates(e.obj)) {
    const spec = tpl.spec;
    const psc = isRecord(spec.securityContext) ? spec.securityContext : {};
    const pscPath = at(tpl, 'spec.securityContext');
    for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
      if (spec[f] === true) push(at(tpl, `spec.${f}`), `${f}: true shares the node's namespaces`, `remove ${f}`);
    }
    asArray(spec.volumes).forEach((v, i) => {
      if (!isRecord(v)) return;
      for (const type of Object.keys(v).filter((k) => k !== 'name')) {
        const p = child(item(at(tpl, 'spec.volumes'), i), type);
        if (type === 'hostPath') push(p, `volume "${String(v.name)}" mounts a hostPath`, 'use an emptyDir, a PVC or a projected volume instead');
        else if (!ALLOWED_VOLUMES.has(type)) push(p, `volume type ${type} is not allowed by Pod Security "restricted"`, `allowed: ${[...ALLOWED_VOLUMES].join(', ')}`);
      }
    });
    if (psc.runAsUser === 0) push(child(pscPath, 'runAsUser'), 'runAsUser 0 runs the pod as root', 'use a non-zero UID (e.g. 65532)');
    if (psc.runAsNonRoot === false) push(child(pscPath, 'runAsNonRoot'), 'runAsNonRoot is false', 'set runAsNonRoot: true');
    const podSeccomp = isRecord(psc.seccompProfile) ? psc.seccompProfile.type : undefined;
    if (podSeccomp !== undefined && !SAFE_SECCOMP.includes(podSeccomp)) push(child(pscPath, 'seccompProfile.type'), `seccompProfile ${String(podSeccomp)} is not allowed`, 'use seccompProfile.type: RuntimeDefault');

    const containers = containersOf(tpl);
    // runAsNonRoot / seccompProfile may be set once on the pod or on every container.
    const notNonRoot = containers.filter((c) => (isRecord(c.container.securityContext) ? c.container.securityContext.runAsNonRoot : undefined) !== true);
    if (psc.runAsNonRoot !== true && notNonRoot.length > 0) {
      if (notNonRoot.length === containers.length) push(child(pscPath, 'runAsNonRoot'), 'runAsNonRoot is not true on the pod nor on its containers', `set spec.securityContext.runAsNonRoot: true (${HARDENED})`);
      else for (const c of notNonRoot) push(`${c.path}.securityContext.runAsNonRoot`, `${containerLabel(c)} does not set runAsNonRoot: true and the pod does not either`, 'set runAsNonRoot: true on the pod');
    }
    const seccompOf = (c: typeof containers[number]) => {
      const sc = isRecord(c.container.securityContext) ? c.container.securityContext : {};
      return isRecord(sc.seccompProfile) ? sc.seccompProfile.type : undefined;
    };
    const noSeccomp = containers.filter((c) => seccompOf(c) === undefined);
    if (!SAFE_SECCOMP.includes(podSeccomp) && noSeccomp.length > 0) {
      if (noSeccomp.length === containers.length) push(child(pscPath, 'seccompProfile'), 'no seccompProfile on the pod nor on its containers', `set spec.securityContext.seccompProfile.type: RuntimeDefault (${HARDENED})`);
      else for (const c of noSeccomp) push(`${c.path}.securityContext.seccompProfile`, `${containerLabel(c)} has no seccompProfile and the pod has none either`, 'set seccompProfile.type: RuntimeDefault on the pod');
    }
    for (const c of containers) {
      const sc = isRecord(c.container.securityContext) ? c.container.securityContext : {};
      const scPath = `${c.path}.securityContext`;
      const who = containerLabel(c);
      if (sc.runAsNonRoot === false) push(`${scPath}.runAsNonRoot`, `${who} sets runAsNonRoot: false`, 'remove it or set true');
      if (sc.runAsUser === 0) push(`${scPath}.runAsUser`, `${who} runs as UID 0 (root)`, 'use a non-zero UID');
      const sec = seccompOf(c);
      if (sec !== undefined && !SAFE_SECCOMP.includes(sec)) push(`${scPath}.seccompProfile.type`, `${who} uses seccompProfile ${String(sec)}`, 'use RuntimeDefault');
      if (sc.privileged === true) push(`${scPath}.privileged`, `${who} is privileged`, 'remove privileged: true');
      if (sc.allowPrivilegeEscalation !== false) push(`${scPath}.allowPrivilegeEscalation`, `${who} does not set allowPrivilegeEscalation: false`, `set allowPrivilegeEscalation: false (${HARDENED})`);
      const caps = isRecord(sc.capabilities) ? sc.capabilities : {};
      if (!asArray(caps.drop).includes('ALL')) push(`${scPath}.capabilities.drop`, `${who} does not drop ALL capabilities`, 'set capabilities.drop: [ALL]');
      asArray(caps.add).forEach((cap, i) => {
        if (cap !== 'NET_BIND_SERVICE') push(item(`${scPath}.capabilities.add`, i), `${who} adds capability ${String(cap)}`, 'restricted allows adding only NET_BIND_SERVICE');
      });
      if (sc.procMount !== undefined && sc.procMount !== 'Default') push(`${scPath}.procMount`, `${who} uses procMount ${String(sc.procMount)}`, 'remove procMount');
      if (isRecord(sc.windowsOptions) && sc.windowsOptions.hostProcess === true) push(`${scPath}.windowsOptions.hostProcess`, `${who} is a Windows host process`, 'remove hostProcess');
      asArray(c.container.ports).forEach((p, i) => {
        if (isRecord(p) && p.hostPort !== undefined && p.hostPort !== 0) push(`${item(`${c.path}.ports`, i)}.hostPort`, `${who} binds hostPort ${String(p.hostPort)}`, 'remove hostPort; expose the port through a Service');
      });
    }
  }
  return out;
}
