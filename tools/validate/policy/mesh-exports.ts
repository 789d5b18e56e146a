/**
 * How the tree rules follow a cross-region name back to the Service behind it: a region exports
 * one of its Services to the mesh with a ServiceEntry whose host is the mesh name
 * (`*.<region>.<domain>.global`) and whose endpoint is the local Service's cluster name.
 */
import { specOf } from '../context';
import { parseServiceHost } from '../wiring/walk';
import { asArray, Entry, isKind, isRecord, pushTo } from '../types';

/** A cluster Service name (`name.ns.svc.cluster.local`) as `name.ns`; undefined for any other host. */
export function serviceKey(host: string): string | undefined {
  if (!/\.svc\.cluster\.local\.?$/.test(host)) return undefined;
  const s = parseServiceHost(host, '');
  return s ? `${s.name}.${s.namespace}` : undefined;
}

/** Each mesh name, with the regions that export a local Service under it and that Service (`name.ns`). */
export function exportedServices(all: readonly Entry[]): Map<string, Array<{ region: string; service: string }>> {
  const out = new Map<string, Array<{ region: string; service: string }>>();
  for (const e of all) {
    if (!e.region || !isKind(e.obj, 'networking.istio.io', 'ServiceEntry')) continue;
    const local = asArray(specOf(e.obj).endpoints).filter(isRecord)
      .map((p) => (typeof p.address === 'string' ? serviceKey(p.address) : undefined)).filter((k): k is string => k !== undefined);
    for (const host of asArray(specOf(e.obj).hosts)) if (typeof host === 'string') for (const service of local) pushTo(out, host, { region: e.region, service });
  }
  return out;
}
