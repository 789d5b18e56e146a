/**
 * Cross-region identities in the committed dist/, read as the clusters would run them: every
 * ServiceEntry that imports another region's host names in subjectAltNames exactly the SPIFFE
 * ID of the pods that answer in the home region (its export ServiceEntry → the local Service →
 * the pods it selects → their ServiceAccount). Judged from the rendered objects of both
 * regions, not from the declaration the charts and the wiring check share.
 */
import { describe, expect, it } from 'vitest';
import { distObjects } from '../support/dist';
import type { Obj } from '../support/charts';

const objects = distObjects();
const byFolder = (folder: string) => objects.filter((d) => d.folder === folder).map((d) => d.object);
const isGatewayEndpoint = (address: string) => address.startsWith('eastwest.');
const podTemplates = (folder: string) => byFolder(folder).filter((o) => ['Deployment', 'StatefulSet', 'Rollout'].includes(o.kind));
/** Whether a Service selects a pod template; labels its pods only get at run time (Patroni's spilo-role) are declared on the Service. */
const selects = (service: Obj, labels: Record<string, string> = {}) => {
  const runtime = String(service.metadata.annotations?.['bookedbarber.com/runtime-selector-labels'] ?? '').split(',').filter(Boolean);
  return Object.entries(service.spec.selector as Record<string, string>).every(([k, v]) => runtime.includes(k) || labels[k] === v);
};

describe('cross-region mTLS identities (dist/)', () => {
  const imports = objects.filter((d) => d.object.kind === 'ServiceEntry' && (d.object.spec.endpoints ?? []).some((e: any) => isGatewayEndpoint(e.address)));

  it('finds the imports of every serving and standby region (the API to remote shards, session replicas, DR standbys)', () => {
    expect(imports.length).toBeGreaterThanOrEqual(19);
  });

  it('names, in each import, the ServiceAccount of the pods that answer in the home region', () => {
    const problems: string[] = [];
    for (const { folder, object: entry } of imports) {
      const host: string = entry.spec.hosts[0];
      const where = `${folder} ServiceEntry ${entry.metadata.name} (${host})`;
      const exported = objects.filter((d) => d.folder !== folder && d.object.kind === 'ServiceEntry' && d.object.spec.hosts.includes(host) && !(d.object.spec.endpoints ?? []).some((e: any) => isGatewayEndpoint(e.address)));
      if (exported.length !== 1) { problems.push(`${where}: exported by ${exported.length} regions`); continue; }
      const home = exported[0]!;
      const [serviceName, namespace] = String(home.object.spec.endpoints[0].address).split('.');
      const service = byFolder(home.folder).find((o: Obj) => o.kind === 'Service' && o.metadata.name === serviceName && o.metadata.namespace === namespace);
      if (!service) { problems.push(`${where}: ${home.folder} has no Service ${namespace}/${serviceName}`); continue; }
      const pods = podTemplates(home.folder).filter((w: Obj) => w.metadata.namespace === namespace && selects(service, w.spec.template.metadata.labels));
      if (pods.length === 0) { problems.push(`${where}: no pods behind ${namespace}/${serviceName} in ${home.folder}`); continue; }
      const identities = [...new Set(pods.map((w: Obj) => `spiffe://cluster.local/ns/${namespace}/sa/${w.spec.template.spec.serviceAccountName}`))];
      if (JSON.stringify(entry.spec.subjectAltNames) !== JSON.stringify(identities)) {
        problems.push(`${where}: subjectAltNames ${JSON.stringify(entry.spec.subjectAltNames)}, but ${home.folder} answers as ${identities.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
