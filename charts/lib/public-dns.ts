/**
 * Public DNS of a region as data: which Route 53 records it asks for (charts/dns renders them as
 * DNSEndpoints) and the names the external-dns add-on that writes them must agree on
 * (charts/argocd/addon-catalog.ts). One pure function, so the chart, the add-on values and the
 * tests read the very same records.
 *
 * How a region leaves DNS when it fails: every record is a Route 53 *latency* record (set
 * identifier = the region, routing region = the region) tied to the region's Route 53 health
 * check. Route 53 answers each resolver with the lowest-latency region whose health check passes,
 * so a failed region stops being answered without any write: nothing in the failed region (its
 * external-dns included) has to work for failover. The health checks are Route 53 objects, not
 * Kubernetes ones: they are created outside this repository and only their IDs are in the model.
 *
 * Where the records point: the load balancer of the region's istio-ingressgateway Service,
 * recorded in the region file (`dns.ingressLoadBalancer`) once it exists, rather than read from
 * the Service by external-dns' `service` source. Reasons: every public record is then an object
 * in dist/ that review and `npm run diff` see; external-dns needs read access to DNSEndpoints
 * only (no cluster-wide Service, Pod, Node and EndpointSlice reads, and no Service anywhere
 * can publish a name into the zone by annotation); the Route 53 health check (infrastructure
 * code) needs that same load balancer name anyway; and a region joins public DNS by a reviewed
 * change, after its ingress is proven, instead of as soon as its load balancer appears. The cost:
 * if the ingress gateway Service is ever re-created (a new load balancer), the field must be
 * updated (see docs/argocd.md).
 */
import { serving } from '../../regions/plan';
import type { RegionPlan } from '../../regions/plan';

/** The external-dns add-on: namespace, Helm release and the ServiceAccount IRSA binds to. */
export const EXTERNAL_DNS = {
  namespace: 'external-dns',
  releaseName: 'external-dns',
  serviceAccount: 'external-dns',
} as const;

/** `app.kubernetes.io/name` of our DNSEndpoints; external-dns reads only objects with it (--label-filter). */
export const PUBLIC_DNS_APP = 'public-dns';

/** One public record this region asks Route 53 for. */
export interface PublicDnsRecord {
  /** Object name of its DNSEndpoint (`<platform>-dns-<service>`). */
  readonly objectName: string;
  /** Which public entry: the web front end or the API. */
  readonly service: 'web' | 'api';
  readonly dnsName: string;
  /**
   * CNAME to the load balancer, not an ALIAS: the TTL clients cache is then ours (an ALIAS to a
   * load balancer always carries AWS' 60 s and ignores ours), and the RTO invariant checks it.
   */
  readonly recordType: 'CNAME';
  readonly target: string;
  readonly ttlSeconds: number;
  /** Unique per record set: the region name (Route 53 SetIdentifier). */
  readonly setIdentifier: string;
  /** Route 53 latency routing: the AWS region whose latency decides (the region itself). */
  readonly awsRegion: string;
  readonly healthCheckId: string;
}

/**
 * The DNSEndpoints live in the app namespace: the region AppProject may write only our
 * namespaces, and the records are the public entry of the app namespace's API and web.
 */
export function dnsEndpointNamespace(region: RegionPlan): string {
  return region.namespaces.app;
}

/**
 * TXT registry owner of this region's external-dns: each region owns (and under `sync` may
 * delete) only the records it created, never another region's record of the same name.
 */
export function externalDnsOwnerId(region: RegionPlan): string {
  return `${region.global.platform.name}-${region.region.name}`;
}

/** The records of one region; none while `dns.ingressLoadBalancer` is not set (not in public DNS). */
export function publicDnsRecords(region: RegionPlan): PublicDnsRecord[] {
  const { global } = region;
  const { name, dns } = serving(region);
  if (dns.ingressLoadBalancer === undefined) return [];
  const target = dns.ingressLoadBalancer;
  const entries = [
    { service: 'web', dnsName: global.ingress.webHost },
    { service: 'api', dnsName: global.ingress.apiHost },
  ] as const;
  return entries.map(({ service, dnsName }) => ({
    objectName: `${global.platform.name}-dns-${service}`,
    service,
    dnsName,
    recordType: 'CNAME',
    target,
    ttlSeconds: global.dns.ttlSeconds,
    setIdentifier: name,
    awsRegion: name,
    healthCheckId: dns.healthCheckId,
  }));
}
