/**
 * The region's public DNS records (dist/<region>/dns.yaml): one DNSEndpoint per public host
 * (ingress.webHost, ingress.apiHost), which the region's external-dns (platform add-on, `crd`
 * source) writes to Route 53 as a latency record of this region, tied to its health check.
 * The records are computed in charts/lib/public-dns.ts (why CNAME, why the load balancer comes
 * from the model); this chart only serialises them. A region without `dns.ingressLoadBalancer`
 * renders an empty file: it is not in public DNS.
 */
import type { Construct } from 'constructs';
import { DnsEndpoint } from '../../imports/dnsendpoint-externaldns.k8s.io';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { dnsEndpointNamespace, PUBLIC_DNS_APP, publicDnsRecords } from '../lib/public-dns';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

export class DnsChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, 'dns', props);
    const { plan } = props;
    for (const record of publicDnsRecords(plan)) {
      new DnsEndpoint(this, record.service, {
        metadata: {
          name: record.objectName,
          namespace: dnsEndpointNamespace(plan),
          labels: appLabels(plan, PUBLIC_DNS_APP, 'ingress'),
          // After the workloads: a region is announced once what answers behind the name is applied.
          annotations: syncWave(SYNC_WAVE.scaling),
        },
        spec: {
          endpoints: [
            {
              dnsName: record.dnsName,
              recordType: record.recordType,
              recordTtl: record.ttlSeconds,
              targets: [record.target],
              // One record set per region under the same name: Route 53 answers with the
              // lowest-latency region whose health check passes.
              setIdentifier: record.setIdentifier,
              providerSpecific: [
                // A plain CNAME (our TTL); without this the AWS provider turns a CNAME to a load
                // balancer into an ALIAS, whose TTL is AWS' own.
                { name: 'alias', value: 'false' },
                { name: 'aws/region', value: record.awsRegion },
                { name: 'aws/health-check-id', value: record.healthCheckId },
              ],
            },
          ],
        },
      });
    }
  }
}
