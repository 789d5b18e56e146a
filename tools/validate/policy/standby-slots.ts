/**
 * Rule `standby-slot`, over the whole tree (a DR site and its home are in two region folders): a
 * Patroni standby cluster streams from its home with the replication slot its
 * `standby_cluster.primary_slot_name` names, so the home cluster must keep that slot (a permanent
 * physical slot in its `slots`). If it does not, the home primary refuses the stream (`replication
 * slot "..." does not exist`): the standby leader only replays WAL from the archive, whole segments
 * behind (far beyond an RPO of seconds).
 *
 * Patroni's configuration is read where it is rendered: `bootstrap.dcs` of a patroni.yml in a
 * ConfigMap (what a new cluster starts with), and the dynamic configuration a container is given
 * as a JSON env value with `standby_cluster` or `slots` (what a topology Job PATCHes to the
 * running cluster's /config) together with the leader Service it sends it to (another env value
 * of the container, `name.ns.svc.cluster.local`). A standby's host is a mesh name of another
 * region: the home is the cluster behind the Service that a ServiceEntry of that region, for that
 * host, has as its endpoint; a patroni.yml belongs to the Service named after its `scope` (the
 * Patroni convention Spilo follows). Every source of the home's slots in view must keep the slot
 * (each is a state the cluster can be in); with none in view (one region validated alone) nothing
 * is judged. Literal values only.
 */
import { parsedYaml } from '../mounted-files';
import { child, item } from '../paths';
import { containersOf, podTemplates } from '../pod-templates';
import { exportedServices, serviceKey } from './mesh-exports';
import { asArray, Entry, isKind, isRecord, namespaceOf, RawFinding } from '../types';

const RULE = 'standby-slot';

interface Standby {
  readonly entry: Entry;
  readonly path: string;
  readonly host: string;
  readonly slot: string;
}

/** Slots a source declares for one cluster (by its leader Service, `name.ns`, in a region). */
interface SlotSource {
  readonly region: string;
  readonly service: string;
  readonly what: string;
  readonly slots: readonly string[];
}

/**
 * Permanent physical slots of a Patroni `slots` section (null or absent: none). A slot whose value
 * is not a mapping (`name: 0`, as Patroni's own tests write it) is physical; a null one is removed
 * (what a PATCH of /config does with it).
 */
function physicalSlots(slots: unknown): string[] {
  if (!isRecord(slots)) return [];
  return Object.entries(slots).filter(([, v]) => v !== null && (!isRecord(v) || v.type === undefined || v.type === 'physical')).map(([k]) => k).sort();
}

function standbyOf(config: Record<string, unknown>, entry: Entry, path: string): Standby | undefined {
  const s = config.standby_cluster;
  return isRecord(s) && typeof s.host === 'string' && typeof s.primary_slot_name === 'string' ? { entry, path, host: s.host, slot: s.primary_slot_name } : undefined;
}

function read(e: Entry, standbys: Standby[], sources: SlotSource[]): void {
  const region = e.region;
  if (!region) return;
  if (isKind(e.obj, '', 'ConfigMap') && isRecord(e.obj.data)) {
    for (const [key, text] of Object.entries(e.obj.data)) {
      if (!/patroni\.ya?ml$/.test(key) || typeof text !== 'string') continue;
      if (!text.includes('standby_cluster') && !text.includes('slots')) continue;
      const config = parsedYaml(text);
      if (!isRecord(config) || !isRecord(config.bootstrap) || !isRecord(config.bootstrap.dcs)) continue;
      const dcs = config.bootstrap.dcs;
      const standby = standbyOf(dcs, e, child('data', key));
      if (standby) standbys.push(standby);
      if (typeof config.scope === 'string') sources.push({ region, service: `${config.scope}.${namespaceOf(e.obj) ?? ''}`, what: `${key} of ConfigMap ${namespaceOf(e.obj) ?? ''}/${String(e.obj.metadata?.name)} (bootstrap.dcs.slots)`, slots: physicalSlots(dcs.slots) });
    }
    return;
  }
  for (const tpl of podTemplates(e.obj)) {
    for (const { container, path } of containersOf(tpl, ['initContainers', 'containers'])) {
      const env = asArray(container.env).map((v, i) => ({ v, i })).filter(({ v }) => isRecord(v) && typeof v.value === 'string');
      const leaders = env.map(({ v }) => serviceKey(String((v as Record<string, unknown>).value))).filter((k): k is string => k !== undefined);
      for (const { v, i } of env) {
        const text = String((v as Record<string, unknown>).value).trim();
        if (!text.startsWith('{') || !(text.includes('"standby_cluster"') || text.includes('"slots"'))) continue;
        let config: unknown;
        try {
          config = JSON.parse(text);
        } catch {
          continue;
        }
        if (!isRecord(config)) continue;
        const at = `${item(`${path}.env`, i)}.value`;
        const standby = standbyOf(config, e, at);
        if (standby) standbys.push(standby);
        if ('slots' in config && leaders.length === 1) {
          sources.push({ region, service: leaders[0]!, what: `${String((v as Record<string, unknown>).name)} of ${String(e.obj.kind)} ${namespaceOf(e.obj) ?? ''}/${String(e.obj.metadata?.name)} (slots)`, slots: physicalSlots(config.slots) });
        }
      }
    }
  }
}

/** `judged`: the objects findings are reported on; `all`: every object in view (judged ones included). */
export function checkStandbySlots(judged: readonly Entry[], all: readonly Entry[]): RawFinding[] {
  const standbys: Standby[] = [];
  const sources: SlotSource[] = [];
  for (const e of all) read(e, standbys, sources);
  if (standbys.length === 0) return [];
  const homes = exportedServices(all);
  const isJudged = new Set(judged);
  const out: RawFinding[] = [];
  for (const s of standbys) {
    if (!isJudged.has(s.entry)) continue;
    for (const home of (homes.get(s.host) ?? []).filter((h) => h.region !== s.entry.region)) {
      const lacking = sources.filter((src) => src.region === home.region && src.service === home.service && !src.slots.includes(s.slot));
      if (lacking.length === 0) continue;
      const kept = [...new Set(lacking.flatMap((src) => src.slots))].sort();
      const name = home.service.split('.')[0];
      out.push({ file: s.entry.file, index: s.entry.index, object: s.entry.id, path: s.path, rule: RULE,
        message: `primary_slot_name ${s.slot}: the home cluster behind ${s.host} (${name} in ${home.region}) keeps no such slot (${lacking.map((src) => `${src.what}: ${src.slots.length > 0 ? src.slots.join(', ') : 'none'}`).join('; ')}): its primary refuses the standby's stream, so the standby replays only archived WAL, whole segments behind`,
        hint: kept.length > 0 ? `name the slot the home cluster keeps (${kept.join(', ')}), or add ${s.slot} to its slots` : `add ${s.slot} (type: physical) to the home cluster's slots` });
    }
  }
  return out;
}
