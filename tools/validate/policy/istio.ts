/**
 * What Istio's admission webhook refuses but its CRD schema does not say (the schema types
 * `servers[].hosts` as a list, with no minimum): rule `istio-gateway-hosts`, a Gateway server
 * with no hosts (istio/istio pkg/config/validation `validateServer`: "server config must contain
 * at least one host"). Argo CD's sync of the whole file would fail on it.
 */
import { item } from '../paths';
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';

export function checkGatewayHosts(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'networking.istio.io', 'Gateway')) return [];
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  const out: RawFinding[] = [];
  asArray(spec.servers).forEach((server, i) => {
    if (isRecord(server) && asArray(server.hosts).length === 0) {
      out.push(finding(e, `${item('spec.servers', i)}.hosts`, 'istio-gateway-hosts', 'Gateway server has no hosts: Istio\'s admission webhook refuses it',
        'list at least one host, or render no Gateway (e.g. a region exporting nothing needs no east-west server)'));
    }
  });
  return out;
}
