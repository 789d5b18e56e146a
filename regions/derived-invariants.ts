/**
 * Limits of what the charts derive from the config: names built from platform.name, region
 * names and shard ids (Kubernetes names and label values, Grafana uids), container requests
 * against their limits, quantities Kubernetes can represent, settings a chart refuses. (The backup
 * schedule is the schema's `cron` format, regions/formats.ts: the same subset the sidecar evaluates.) Each of these used to be a chart's `throw` that reached the
 * user raw after the config checks; here it is a located issue naming the field that causes it,
 * found before any chart is built. The charts keep their assertions as guards against bugs
 * (tools/synth/run.ts reports those as internal errors).
 */
import type { TSchema } from '@sinclair/typebox';
import type { ConfigIssue, FieldPath } from './config-error';
import type { Invariant, LoadedModel } from './invariants';
import { isServingRegion } from './model';
import { parseQuantity } from './quantity';
import { GlobalConfig, RegionConfig } from './model';
import type { SourceFile } from './source-file';
import { solveUnitPrices } from './pricing';
import { DEFAULT_PATRONI_TIMING, failoverWorstCase } from './failover-timing';
import { BASE_BACKUP_TIMEOUT_SECONDS, longestScheduleGapSeconds } from './backup-schedule';

/** Kubernetes object names of label-named kinds (Service, Namespace) and label values. */
export const DNS_LABEL_MAX = 63;
/** Grafana caps dashboard uids at 40 characters (charts/dashboards/kit.ts MAX_UID_LENGTH). */
export const GRAFANA_UID_MAX = 40;
/**
 * The longest dashboard key (charts/dashboards: uid = `<platform>-<key>`).
 * test/regions/derived-limits.test.ts checks it against the rendered dashboards.
 */
export const LONGEST_DASHBOARD_KEY = 'regional-performance';

/**
 * Names and label values the charts build from the config, with their limits. `shard` and `dr`
 * are set for the per-shard names. The list is checked against every name of the rendered
 * shipped tree by test/regions/derived-limits.test.ts (a name the charts add must appear here).
 */
interface DerivedName {
  readonly what: string;
  readonly limit: number;
  readonly build: (p: { platform: string; region: string; shard?: number; dr?: string }) => string | undefined;
}

export const DERIVED_NAMES: readonly DerivedName[] = [
  { what: 'Grafana dashboard uid', limit: GRAFANA_UID_MAX, build: ({ platform }) => `${platform}-${LONGEST_DASHBOARD_KEY}` },
  // app.kubernetes.io/instance of the shard topology Jobs and their ServiceAccounts.
  { what: 'label app.kubernetes.io/instance of the topology Job of a DR site', limit: DNS_LABEL_MAX, build: ({ platform, shard, dr }) => (shard === undefined ? undefined : `${platform}-postgres-shard-${shard}-dr-topology-${dr}`) },
  { what: 'label app.kubernetes.io/instance of the topology Job of a shard', limit: DNS_LABEL_MAX, build: ({ platform, shard, region }) => (shard === undefined ? undefined : `${platform}-postgres-shard-${shard}-topology-${region}`) },
  { what: 'label app.kubernetes.io/instance of a DR site', limit: DNS_LABEL_MAX, build: ({ platform, shard, dr }) => (shard === undefined ? undefined : `${platform}-postgres-shard-${shard}-dr-${dr}`) },
  // Argo CD tracks an Application's objects by its name in the app.kubernetes.io/instance label.
  { what: 'Argo CD Application name (also the app.kubernetes.io/instance label of its objects)', limit: DNS_LABEL_MAX, build: ({ platform, region }) => `${platform}-${region}-opentelemetry-operator` },
  { what: 'Service name', limit: DNS_LABEL_MAX, build: ({ platform }) => `${platform}-redis-rate-limit-sentinel-headless` },
];

/** Every derived name must fit its limit; the issue names the field that made it long. */
const derivedNamesFit: Invariant = ({ global, regions }) => {
  const platform = global.config.platform.name;
  const issues: ConfigIssue[] = [];
  // Names too long because of platform.name: one issue, at the tightest limit.
  const tooLong: Array<{ what: string; name: string; limit: number; room: number }> = [];
  const check = (inputs: { platform: string; region: string; shard?: number; dr?: string }, blame: () => ConfigIssue) => {
    for (const d of DERIVED_NAMES) {
      const name = d.build(inputs);
      if (name === undefined || name.length <= d.limit) continue;
      const room = d.limit - (name.length - platform.length);
      if (room < 1) {
        // Too long whatever the platform name: the region name or shard id is the cause.
        const own = blame();
        issues.push({ ...own, expected: `${own.expected}: the ${d.what} "${name}" is ${name.length} characters, the limit is ${d.limit}` });
      } else {
        tooLong.push({ what: d.what, name, limit: d.limit, room });
      }
    }
  };
  for (const region of regions) {
    const name = region.config.name;
    check({ platform, region: name }, () => region.source.issue(['name'], JSON.stringify(name), 'a region name short enough for the names derived from it', "use the cloud provider's region name"));
    region.config.shards.forEach((shard, index) => {
      check({ platform, region: name, shard: shard.id, dr: shard.disasterRecovery.region }, () =>
        region.source.issue(['shards', index, 'id'], String(shard.id), 'a shard id short enough for the names derived from it', 'number shards 1, 2, 3, ...'),
      );
    });
  }
  if (tooLong.length > 0) {
    tooLong.sort((a, b) => a.room - b.room);
    const tightest = tooLong[0]!;
    const others = [...new Set(tooLong.filter((t) => t.what !== tightest.what).map((t) => `${t.what} (limit ${t.limit})`))];
    issues.push(
      global.source.issue(
        ['platform', 'name'],
        `${JSON.stringify(platform)} (${platform.length} characters)`,
        `at most ${tightest.room} characters: the ${tightest.what} "${tightest.name}" is ${tightest.name.length} characters, the limit is ${tightest.limit}` +
          (others.length > 0 ? `; also too long: ${others.join(', ')}` : ''),
        `shorten platform.name to ${tightest.room} characters or fewer (and the StorageClass names that start with it)`,
      ),
    );
  }
  return issues;
};

/**
 * Largest quantity Kubernetes represents exactly: resource.Quantity is an int64 of milli-units,
 * so at most (2^63 - 1) / 1000 whole units (about 8 PiB of memory, 9 x 10^15 CPUs).
 */
export const MAX_QUANTITY = (2 ** 63 - 1) / 1000;
/** A string field holding a Kubernetes quantity (regions/model.ts Quantity). */
const isQuantitySchema = (s: Schema) =>
  s.pattern === '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$' || /quantity/i.test(String(s.format ?? '')) || /Kubernetes quantity/.test(String(s.description ?? ''));

type Schema = TSchema & Record<string, any>;

/** Every value of `data` whose schema is a Kubernetes quantity, with its path. */
function quantities(schema: Schema, data: unknown, path: FieldPath = []): Array<{ path: FieldPath; value: string }> {
  if (data === undefined || data === null) return [];
  if (schema.anyOf) return (schema.anyOf as Schema[]).flatMap((b) => (b.type === 'object' && typeof data === 'object' ? quantities(b, data, path) : []));
  if (schema.type === 'string') return isQuantitySchema(schema) && typeof data === 'string' && /^[0-9]/.test(data) ? [{ path, value: data }] : [];
  if (schema.type === 'array' && Array.isArray(data)) return data.flatMap((item, i) => quantities(schema.items as Schema, item, [...path, i]));
  if (schema.type === 'object' && typeof data === 'object') {
    const obj = data as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const extra = (schema.patternProperties ? Object.values(schema.patternProperties)[0] : typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined) as Schema | undefined;
    return Object.entries(obj).flatMap(([key, value]) => {
      const child = props[key] ?? extra;
      return child ? quantities(child, value, [...path, key]) : [];
    });
  }
  return [];
}

const quantityIssues = (source: SourceFile, schema: TSchema, data: unknown): ConfigIssue[] =>
  quantities(schema as Schema, data)
    .filter((q) => {
      try {
        return parseQuantity(q.value) > MAX_QUANTITY;
      } catch {
        return false; // not a quantity the schema admits: reported by the schema check
      }
    })
    .map((q) =>
      source.issue(q.path, q.value, `a quantity Kubernetes can hold: at most ${MAX_QUANTITY.toExponential(2)} (an int64 of milli-units)`, 'use a realistic size, with a suffix (Gi, Ti, m)'),
    );

const quantitiesFitKubernetes: Invariant = ({ global, regions }) => [
  ...quantityIssues(global.source, GlobalConfig, global.config),
  ...regions.flatMap((r) => quantityIssues(r.source, RegionConfig, r.config)),
];

/**
 * A container's requests must not exceed its limits (the API server rejects the pod): every
 * `resources` block of global.yaml, wherever it is (Postgres, PgBouncer, Redis tiers, sidecars,
 * tracing, monitoring).
 */
const requestsWithinLimits: Invariant = ({ global }) => {
  const issues: ConfigIssue[] = [];
  const visit = (node: unknown, path: FieldPath) => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, [...path, i]));
    const obj = node as Record<string, unknown>;
    const requests = obj.requests as Record<string, unknown> | undefined;
    const limits = obj.limits as Record<string, unknown> | undefined;
    if (requests && limits && typeof requests === 'object' && typeof limits === 'object') {
      for (const res of ['cpu', 'memory'] as const) {
        const r = requests[res];
        const l = limits[res];
        if (typeof r !== 'string' || typeof l !== 'string') continue;
        if (parseQuantity(r) > MAX_QUANTITY || parseQuantity(l) > MAX_QUANTITY) continue; // quantitiesFitKubernetes
        if (parseQuantity(r) > parseQuantity(l)) {
          const where = [...path, 'requests', res].map(String).join('.');
          issues.push(
            global.source.issue([...path, 'requests', res], r, `<= ${[...path, 'limits', res].join('.')} (${l}): Kubernetes rejects a container that requests more than its limit`, `lower ${where} to ${l} or raise the limit`),
          );
        }
      }
    }
    for (const [key, value] of Object.entries(obj)) visit(value, [...path, key]);
  };
  // workloads.api/web: workloadSizesFit (regions/invariants.ts) reports their requests and limits.
  for (const [key, value] of Object.entries(global.config)) if (key !== 'workloads') visit(value, [key]);
  return issues;
};

/** Seconds of a `30s`/`5m`/`2h` duration (the model's Duration). */
function durationSeconds(d: string): number {
  const m = /^([0-9]+)(s|m|h)$/.exec(d);
  if (!m) return Number.NaN;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

/** charts/lib/http-service.ts: the rate window is at least this (two Prometheus scrapes). */
const MIN_RATE_WINDOW_SECONDS = 60;

/**
 * The web front end's post-promotion analysis must end before the old stack is scaled down
 * (Argo Rollouts cancels it then, and with it the instant way back): charts/web/chart.ts.
 */
const webAnalysisEndsBeforeScaleDown: Invariant = ({ global }) => {
  const { analysis, scaleDownDelaySeconds } = global.config.delivery.web;
  const interval = durationSeconds(analysis.interval);
  const seconds = Math.max(MIN_RATE_WINDOW_SECONDS, interval) + (analysis.count - 1) * interval;
  if (seconds < scaleDownDelaySeconds) return [];
  return [
    global.source.issue(
      ['delivery', 'web', 'scaleDownDelaySeconds'],
      String(scaleDownDelaySeconds),
      `> ${seconds}, the length of the post-promotion analysis (initial delay ${Math.max(MIN_RATE_WINDOW_SECONDS, interval)} s + ${analysis.count - 1} x delivery.web.analysis.interval ${analysis.interval}): Argo Rollouts cancels an analysis still running when the old stack is scaled down`,
      seconds < 86_400 ? `raise delivery.web.scaleDownDelaySeconds to ${seconds + 60} or shorten delivery.web.analysis (count, interval)` : 'shorten delivery.web.analysis.interval or count',
    ),
  ];
};

/** charts/tracing/chart.ts: head sampling would drop error traces before the tail sampler sees them. */
const headSamplingKeepsEverything: Invariant = ({ global }) => {
  const head = global.config.mesh.traceSamplingPercent;
  return head === 100
    ? []
    : [
        global.source.issue(
          ['mesh', 'traceSamplingPercent'],
          String(head),
          `100: head sampling drops traces before the tail sampler can see their errors (${100 - head} % of error traces would be lost)`,
          'set mesh.traceSamplingPercent to 100 and thin stored traces with tracing.baselineSamplingPercent',
        ),
      ];
};

/** charts/monitoring/prometheus.ts: retentionSize = 85 % of the volume, in whole GiB, at least 1. */
export const PROMETHEUS_RETENTION_RATIO = 0.85;
const prometheusVolumeHoldsRetention: Invariant = ({ global }) => {
  const size = global.config.monitoring.prometheus.storage.size;
  const gib = Math.floor((parseQuantity(size) * PROMETHEUS_RETENTION_RATIO) / 1024 ** 3);
  return gib >= 1
    ? []
    : [global.source.issue(['monitoring', 'prometheus', 'storage', 'size'], size, `at least 2Gi: Prometheus keeps ${PROMETHEUS_RETENTION_RATIO * 100} % of the volume (whole GiB, at least 1) as its retention size`, 'set monitoring.prometheus.storage.size to 2Gi or more (e.g. 200Gi)')];
};

/** charts/tracing: elasticsearch storage needs its cluster; the URL must be a URL for every region. */
const elasticsearchIsUsable: Invariant = ({ global, regions }) => {
  const storage = global.config.tracing.jaeger.storage;
  const base = ['tracing', 'jaeger', 'storage'];
  if (storage.type !== 'elasticsearch') return [];
  if (!storage.elasticsearch) {
    return [global.source.issue(base, 'type: elasticsearch without an elasticsearch cluster', 'tracing.jaeger.storage.elasticsearch (urlTemplate, numShards, numReplicas, jaegerReplicas) when type is elasticsearch', 'add tracing.jaeger.storage.elasticsearch, or set type: badger')];
  }
  const template = storage.elasticsearch.urlTemplate;
  for (const region of regions.filter((r) => isServingRegion(r.config))) {
    const url = template.replaceAll('{region}', region.config.name);
    let problem: string | undefined;
    try {
      const host = new URL(url).hostname;
      if (host.length > 253 || host.split('.').some((label) => label.length > DNS_LABEL_MAX)) problem = `host "${host}" has a label over ${DNS_LABEL_MAX} or more than 253 characters`;
    } catch {
      problem = 'it is not a valid URL';
    }
    if (problem) {
      return [global.source.issue([...base, 'elasticsearch', 'urlTemplate'], template, `an http(s) URL for every region: for ${region.config.name} it gives "${url.length > 100 ? `${url.slice(0, 97)}...` : url}", and ${problem}`, 'use the host name of the region\'s cluster, e.g. https://traces-{region}.example.com:9200')];
    }
  }
  return [];
};

/** The cost estimate (tools/cost, region pages) solves two reference prices for a vCPU-hour and a GiB-hour. */
const pricesAreSolvable: Invariant = ({ global }) => {
  const pricing = global.config.pricing;
  if (!pricing) return [];
  return Object.entries(pricing.regions).flatMap(([region, table]) => {
    try {
      solveUnitPrices(table.referenceInstances);
      return [];
    } catch (error) {
      return [
        global.source.issue(
          ['pricing', 'regions', region, 'referenceInstances'],
          table.referenceInstances.map((i) => `${i.type} ${i.vcpu} vCPU ${i.memoryGiB} GiB $${i.hourly}/h`).join(', '),
          `two instances with the same vCPUs and different memory whose prices give a positive price per vCPU-hour and per GiB-hour (${(error as Error).message.replace(/^pricing: /, '')})`,
          'copy vcpu, memoryGiB and hourly of both instance types from the published price pages (e.g. m6i.xlarge and r6i.xlarge)',
        ),
      ];
    }
  });
};

/**
 * A shard primary's worst-case failover (Patroni's timing, regions/failover-timing.ts) must fit
 * the RTO: charts/postgres/patroni.ts checkPatroniTiming.
 */
const failoverWithinRto: Invariant = ({ global }) => {
  const { rtoSeconds } = global.config.postgres;
  const worst = failoverWorstCase(DEFAULT_PATRONI_TIMING);
  return worst.seconds <= rtoSeconds
    ? []
    : [
        global.source.issue(
          ['postgres', 'rtoSeconds'],
          String(rtoSeconds),
          `>= ${worst.seconds}, the worst-case Patroni failover (primary lost: ${worst.primaryLost} s = ttl + loop_wait + retry_timeout + promotion + endpoint move; Postgres crashed: ${worst.postgresCrashed} s)`,
          `set postgres.rtoSeconds to ${worst.seconds} or more`,
        ),
      ];
};

/** The port the API and web serve Prometheus metrics on (regions/plan.ts names.api/web.metricsPort). */
export const WORKLOAD_METRICS_PORT = 9464;

/** charts/lib/http-service.ts: the HTTP port and the metrics port of a pod must differ. */
const workloadPortIsNotMetricsPort: Invariant = ({ global }) =>
  (['api', 'web'] as const)
    .filter((w) => global.config.workloads[w].port === WORKLOAD_METRICS_PORT)
    .map((w) =>
      global.source.issue(
        ['workloads', w, 'port'],
        String(WORKLOAD_METRICS_PORT),
        `a port other than ${WORKLOAD_METRICS_PORT}, where the ${w} serves its Prometheus metrics (OpenTelemetry exporter)`,
        `use another port, e.g. 8080`,
      ),
    );

/**
 * Ports the Istio sidecar itself listens on in every meshed pod (istio.io, Application
 * Requirements, "Ports used by Istio"). An app port among them cannot be bound next to the proxy,
 * and the generated AuthorizationPolicies leave the proxy's own ports out (charts/wiring/policies.ts).
 */
export const ISTIO_SIDECAR_PORTS: readonly number[] = [15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090];

/** The API and web containers are meshed: their HTTP port must not be one the sidecar holds. */
const workloadPortIsNotSidecars: Invariant = ({ global }) =>
  (['api', 'web'] as const)
    .filter((w) => ISTIO_SIDECAR_PORTS.includes(global.config.workloads[w].port))
    .map((w) =>
      global.source.issue(
        ['workloads', w, 'port'],
        String(global.config.workloads[w].port),
        `a port the Istio sidecar does not use (it holds ${ISTIO_SIDECAR_PORTS.join(', ')} in every meshed pod): the ${w} could not bind it, and no policy would admit its callers`,
        'use another port, e.g. 8080',
      ),
    );

/**
 * A release gate that can fail: Argo Rollouts fails an analysis only when more measurements
 * failed than failureLimit, so with failureLimit >= count every release passes.
 */
const analysisCanFail: Invariant = ({ global }) =>
  (['api', 'web'] as const)
    .filter((w) => global.config.delivery[w].analysis.failureLimit >= global.config.delivery[w].analysis.count)
    .map((w) => {
      const { count, failureLimit } = global.config.delivery[w].analysis;
      return global.source.issue(
        ['delivery', w, 'analysis', 'failureLimit'],
        String(failureLimit),
        `below count (${count}): an analysis fails only when more than failureLimit of its ${count} measurements failed, so this gate passes every release, however bad`,
        `set delivery.${w}.analysis.failureLimit to ${Math.min(1, count - 1)}${count > 1 ? ` (at most ${count - 1})` : ''}, or raise count`,
      );
    });

/**
 * The staleness alert allows the longest gap between two scheduled base backups plus the time a
 * backup may take; a shorter threshold pages every cycle while nothing is wrong.
 */
const backupAgeAllowsSchedule: Invariant = ({ global }) => {
  const { baseBackupSchedule, baseBackupMaxAgeHours } = global.config.postgres;
  const gap = longestScheduleGapSeconds(baseBackupSchedule);
  if (gap === undefined) return []; // the schedule's format is reported by the schema check
  const needed = gap + BASE_BACKUP_TIMEOUT_SECONDS;
  if (baseBackupMaxAgeHours * 3600 > needed) return [];
  const hours = (seconds: number) => `${Math.round((seconds / 3600) * 10) / 10} h`;
  const schedule = `the schedule "${baseBackupSchedule}"`;
  return [
    global.source.issue(
      ['postgres', 'baseBackupMaxAgeHours'],
      String(baseBackupMaxAgeHours),
      Number.isFinite(gap)
        ? `more than ${hours(needed)}: ${schedule} leaves up to ${hours(gap)} between base backups and one may take ${hours(BASE_BACKUP_TIMEOUT_SECONDS)}, so a shorter threshold pages (PostgresBaseBackupStale) every cycle while backups are fine`
        : `a threshold the schedule can meet: ${schedule} runs less than twice in two years`,
      Number.isFinite(gap) && needed < 35 * 24 * 3600
        ? `set postgres.baseBackupMaxAgeHours to ${Math.floor(needed / 3600) + 1}, or schedule backups more often`
        : 'schedule base backups at least every few days (e.g. "15 2 * * *", daily)',
    ),
  ];
};

/**
 * The API's release gate is no looser than the latency SLO it protects: a canary slower than the
 * SLO's p95 (monitoring.slo.latencyP95Ms, what the latency alerts page on) must fail its analysis,
 * not be promoted to every user and page afterwards.
 */
const apiGateWithinLatencySlo: Invariant = ({ global }) => {
  const gate = global.config.delivery.api.analysis.maxLatencyP95Ms;
  const slo = global.config.monitoring.slo.latencyP95Ms;
  return gate <= slo
    ? []
    : [
        global.source.issue(
          ['delivery', 'api', 'analysis', 'maxLatencyP95Ms'],
          String(gate),
          `at most monitoring.slo.latencyP95Ms (${slo} ms): a canary between ${slo} and ${gate} ms passes the gate, reaches every user and breaks the latency SLO`,
          `set delivery.api.analysis.maxLatencyP95Ms to ${slo} (or loosen the SLO itself)`,
        ),
      ];
};

/** The web and the API answer on their own hosts: one name cannot route to both. */
const ingressHostsDiffer: Invariant = ({ global }) => {
  const { webHost, apiHost } = global.config.ingress;
  return webHost !== apiHost
    ? []
    : [
        global.source.issue(
          ['ingress', 'apiHost'],
          apiHost,
          `a host other than ingress.webHost (${webHost}): both VirtualServices would claim it on the ingress gateway and its DNS records would point at both`,
          `use the API's own host, e.g. api.${webHost.split('.').slice(1).join('.')}`,
        ),
      ];
};

/** Every invariant of this file, registered in regions/invariants.ts. */
export const derivedLimitsHold: Invariant = (model: LoadedModel) =>
  [
    quantitiesFitKubernetes,
    requestsWithinLimits,
    derivedNamesFit,
    webAnalysisEndsBeforeScaleDown,
    headSamplingKeepsEverything,
    prometheusVolumeHoldsRetention,
    elasticsearchIsUsable,
    pricesAreSolvable,
    failoverWithinRto,
    workloadPortIsNotMetricsPort,
    workloadPortIsNotSidecars,
    analysisCanFail,
    backupAgeAllowsSchedule,
    ingressHostsDiffer,
    apiGateWithinLatencySlo,
  ].flatMap((invariant) => invariant(model));
