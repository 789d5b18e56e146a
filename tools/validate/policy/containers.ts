/**
 * Container hygiene rules, each on its own: `read-only-root-fs`, `resources`, `probes`,
 * `image-pinned`. They apply to every pod template (Jobs and CronJobs included); probes only
 * to the long-running controllers, whose pods must tell the Service when they are ready.
 */
import { containerLabel, containersOf, podTemplates, PodTemplate } from '../pod-templates';
import { quantityOrNaN } from '../quantities';
import { asArray, Entry, finding, isRecord, QUANTITY_PATTERN, RawFinding } from '../types';

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function eachTemplate(e: Entry, fn: (tpl: PodTemplate, out: RawFinding[]) => void): RawFinding[] {
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) fn(tpl, out);
  return out;
}

export function checkReadOnlyRootFs(e: Entry): RawFinding[] {
  return eachTemplate(e, (tpl, out) => {
    for (const c of containersOf(tpl, ['initContainers', 'containers'])) {
      const sc = isRecord(c.container.securityContext) ? c.container.securityContext : {};
      if (sc.readOnlyRootFilesystem !== true) {
        out.push(finding(e, `${c.path}.securityContext.readOnlyRootFilesystem`, 'read-only-root-fs', `${containerLabel(c)} has a writable root filesystem`,
          'set readOnlyRootFilesystem: true and mount an emptyDir where the process must write (/tmp, caches)'));
      }
    }
  });
}

/** A Kubernetes quantity: the grammar the upstream schema layer checks built-in kinds with (one copy). */
const QUANTITY = new RegExp(QUANTITY_PATTERN);
/** Less memory than any process starts in: a unit slip (m for milli instead of Mi). */
const MIN_MEMORY_BYTES = 1024 * 1024;

const bytes = quantityOrNaN;

export function checkResources(e: Entry): RawFinding[] {
  return eachTemplate(e, (tpl, out) => {
    for (const c of containersOf(tpl, ['initContainers', 'containers'])) {
      const res = isRecord(c.container.resources) ? c.container.resources : {};
      const requests = isRecord(res.requests) ? res.requests : {};
      const limits = isRecord(res.limits) ? res.limits : {};
      const missing: Array<[string, string]> = [];
      if (requests.cpu === undefined) missing.push(['requests.cpu', 'the scheduler and the HPA\'s CPU utilisation need a CPU request']);
      if (requests.memory === undefined) missing.push(['requests.memory', 'the scheduler needs a memory request to place the pod']);
      if (limits.memory === undefined) missing.push(['limits.memory', 'without a memory limit one leaking pod can take the node down']);
      for (const [field, why] of missing) {
        out.push(finding(e, `${c.path}.resources.${field}`, 'resources', `${containerLabel(c)} has no resources.${field}`, `set it from the region's sizing; ${why}`));
      }
      // The API server parses every value as a quantity and refuses the object otherwise; the
      // schemas type them only as int-or-string.
      const valid = (value: unknown) => typeof value === 'number' || (typeof value === 'string' && QUANTITY.test(value));
      for (const [side, values] of [['requests', requests], ['limits', limits]] as const) {
        for (const [name, value] of Object.entries(values)) {
          if (!valid(value)) {
            out.push(finding(e, `${c.path}.resources.${side}.${name}`, 'resources', `${containerLabel(c)} has resources.${side}.${name} ${JSON.stringify(value)}, which is not a Kubernetes quantity: the API server refuses the object`,
              'write a number with an optional suffix and no space: 500m, 2, 512Mi, 10Gi'));
          } else if (name === 'memory' && bytes(value) > 0 && bytes(value) < MIN_MEMORY_BYTES) {
            // `512m` is 0.512 bytes: valid, and nothing like what was meant.
            out.push(finding(e, `${c.path}.resources.${side}.memory`, 'resources', `${containerLabel(c)} has resources.${side}.memory ${JSON.stringify(value)}, ${bytes(value)} bytes: ${side === 'requests' ? 'the scheduler reserves nothing and the node overcommits' : 'the container is killed as it starts'}`,
              'memory is in bytes: write Mi or Gi (512Mi), not m (milli)'));
          }
        }
      }
      // The API server refuses a request above its limit (pods of the workload are never created).
      for (const name of Object.keys(requests)) {
        const [request, limit] = [requests[name], limits[name]];
        if (limit === undefined || !valid(request) || !valid(limit) || !(bytes(request) > bytes(limit))) continue;
        out.push(finding(e, `${c.path}.resources.requests.${name}`, 'resources', `${containerLabel(c)} requests ${String(request)} ${name}, above its limit ${String(limit)}: the API server refuses its pods ("must be less than or equal to ${name} limit")`,
          `lower the request to at most ${String(limit)}, or raise the limit`));
      }
    }
  });
}

/**
 * Rule `env-unique`: a container's env names each variable once. The API server accepts a
 * repeated name and the kubelet keeps the last, so an edit that renames one variable onto
 * another silently replaces it (and drops the one renamed).
 */
export function checkEnvUnique(e: Entry): RawFinding[] {
  return eachTemplate(e, (tpl, out) => {
    for (const c of containersOf(tpl)) {
      const first = new Map<string, number>();
      asArray(c.container.env).forEach((env, i) => {
        if (!isRecord(env) || typeof env.name !== 'string') return;
        const seen = first.get(env.name);
        // NAME=$(NAME) more appends to the earlier value (the kubelet expands it): not a slip.
        if (seen === undefined || (typeof env.value === 'string' && env.value.includes(`$(${env.name})`))) first.set(env.name, seen ?? i);
        else out.push(finding(e, `${c.path}.env[${i}].name`, 'env-unique', `${containerLabel(c)} sets ${env.name} twice (env[${seen}] and env[${i}]): the kubelet keeps the last, so env[${seen}] is silently ignored`, 'keep one entry per variable'));
      });
    }
  });
}

export function checkProbes(e: Entry): RawFinding[] {
  return eachTemplate(e, (tpl, out) => {
    if (!tpl.longRunning) return;
    for (const c of containersOf(tpl, ['containers'])) {
      for (const probe of ['livenessProbe', 'readinessProbe']) {
        if (!isRecord(c.container[probe])) {
          out.push(finding(e, `${c.path}.${probe}`, 'probes', `${containerLabel(c)} has no ${probe}`,
            probe === 'readinessProbe' ? 'add a readinessProbe so traffic (and the rollout) waits for the pod to be ready' : 'add a livenessProbe so a hung process is restarted'));
        }
      }
    }
  });
}

/** Splits `registry:5000/repo/name:tag@sha256:...` into its tag and digest. */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  const atSign = ref.indexOf('@');
  const withTag = atSign >= 0 ? ref.slice(0, atSign) : ref;
  const digest = atSign >= 0 ? ref.slice(atSign + 1) : undefined;
  const colon = withTag.lastIndexOf(':');
  const tag = colon > withTag.lastIndexOf('/') ? withTag.slice(colon + 1) : undefined;
  return { name: tag === undefined ? withTag : withTag.slice(0, colon), tag, digest };
}

export function checkImagePinned(e: Entry): RawFinding[] {
  const hint = 'pin a version tag from the release config (e.g. repo/api:1.4.2, optionally @sha256:<digest>) so a reviewer can read what runs';
  return eachTemplate(e, (tpl, out) => {
    for (const c of containersOf(tpl)) {
      const image = c.container.image;
      const path = `${c.path}.image`;
      const who = containerLabel(c);
      if (typeof image !== 'string' || image === '') {
        out.push(finding(e, path, 'image-pinned', `${who} has no image`, hint));
        continue;
      }
      const { tag, digest } = parseImage(image);
      if (digest !== undefined && !DIGEST.test(digest)) out.push(finding(e, path, 'image-pinned', `${who} image "${image}" has a malformed digest (expected sha256:<64 hex>)`, hint));
      if (tag === undefined) out.push(finding(e, path, 'image-pinned', `${who} image "${image}" has no tag${digest ? ' (a bare digest cannot be read by a reviewer)' : ' (it means :latest)'}`, hint));
      else if (tag === 'latest') out.push(finding(e, path, 'image-pinned', `${who} image "${image}" uses the moving tag :latest`, hint));
      else if (!TAG.test(tag)) out.push(finding(e, path, 'image-pinned', `${who} image "${image}" has an invalid tag "${tag}"`, hint));
    }
  });
}
