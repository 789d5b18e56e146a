/**
 * Infrastructure: what the workloads use against what they requested, Postgres replication lag
 * against the recovery point objective, PgBouncer pools, Redis memory and Sentinel failovers.
 */
import type { RegionPlan } from '../../regions/plan';
import { anyOf, below, buildDashboard, eq, ne, nre, re, series, statPanel, timeseriesPanel, type DashboardJson } from './kit';
import { DATA_TIER, KUBE } from './metrics';
import { REDIS_TIER_LABEL } from '../lib/monitoring-targets';

const INFRASTRUCTURE = 'infrastructure';

export function infrastructureDashboard(plan: RegionPlan): DashboardJson {
  const { global, namespaces } = plan;
  const rpo = global.postgres.rpoSeconds;
  const ours = re('namespace', anyOf([namespaces.app, namespaces.data, namespaces.monitoring]));
  // cAdvisor also reports the pod sandbox ("POD") and the pod total (no container): skip both.
  const containers = [ours, ne('container', ''), ne('container', 'POD')];
  // One container name per workload (api, web, postgres, pgbouncer, redis, ...): the
  // container is the workload here, without joining pods to owners through kube-state-metrics
  // (which would not follow Argo Rollouts' ReplicaSets).
  const byWorkload = 'region, namespace, container';
  const cpuUsed = `sum by (${byWorkload}) (rate(${series(KUBE.containerCpuSeconds, ...containers)}[$__rate_interval]))`;
  const memoryUsed = `sum by (${byWorkload}) (${series(KUBE.containerMemoryWorkingSet, ...containers)})`;
  const declared = (metric: string, resource: string) => `sum by (${byWorkload}) (${series(metric, ours, eq('resource', resource))})`;
  const data = eq('namespace', namespaces.data);
  const cacheLeftOut = nre(REDIS_TIER_LABEL, 'cache');
  const pool = (metric: string) => `sum by (region, database) (${series(metric, data)})`;

  return buildDashboard({
    key: INFRASTRUCTURE,
    platform: global.platform.name,
    title: 'Infrastructure',
    description: `Resource use vs requests per workload, Postgres replication lag vs the ${rpo} s RPO, PgBouncer pools, Redis memory and Sentinel failovers.`,
    rows: [
      {
        title: 'Workload resources (vs requests)',
        panels: [
          timeseriesPanel({
            title: 'CPU used / requested per workload',
            description: 'CPU used as a share of the CPU requested, per workload container. Above 100 % the workload lives on spare node capacity (there is no CPU limit): raise its request or let it scale.',
            queries: [{ expr: `${cpuUsed} / ${declared(KUBE.containerRequests, 'cpu')}`, legend: '{{namespace}}/{{container}} {{region}}' }],
            unit: 'percentunit',
            min: 0,
            steps: [[null, 'green'], [1, 'orange']],
          }),
          timeseriesPanel({
            title: 'Memory used / requested per workload',
            description: 'Working-set memory as a share of the memory requested, per workload container.',
            queries: [{ expr: `${memoryUsed} / ${declared(KUBE.containerRequests, 'memory')}`, legend: '{{namespace}}/{{container}} {{region}}' }],
            unit: 'percentunit',
            min: 0,
            steps: [[null, 'green'], [1, 'orange']],
          }),
          timeseriesPanel({
            title: 'Memory used / limit per workload',
            description: 'Working-set memory as a share of the memory limit: at 100 % the container is OOM-killed.',
            queries: [{ expr: `${memoryUsed} / ${declared(KUBE.containerLimits, 'memory')}`, legend: '{{namespace}}/{{container}} {{region}}' }],
            unit: 'percentunit',
            min: 0,
            steps: [[null, 'green'], [0.8, 'orange'], [0.95, 'red']],
            width: 24,
          }),
        ],
      },
      {
        title: `Postgres (RPO ${rpo} s)`,
        panels: [
          statPanel({
            title: 'Worst replication lag',
            description: `Largest replay lag of any read replica; red at the ${rpo} s recovery point objective.`,
            queries: [{ expr: `max(${series(DATA_TIER.replicationLagSeconds, data)})`, instant: true }],
            unit: 's',
            decimals: 1,
            steps: below(rpo),
          }),
          timeseriesPanel({
            title: 'Replication lag vs RPO',
            description: `Replay lag of each replica; the dashed line is the ${rpo} s RPO. A replica behind the RPO would lose more than the objective if promoted.`,
            queries: [{ expr: `max by (region, pod) (${series(DATA_TIER.replicationLagSeconds, data)})`, legend: '{{pod}} {{region}}' }],
            unit: 's',
            min: 0,
            steps: below(rpo),
            width: 18,
          }),
        ],
      },
      {
        title: 'PgBouncer pools',
        panels: [
          timeseriesPanel({
            title: 'Client connections: active vs waiting',
            description: 'Clients linked to a server connection, and clients queued for one. Waiting clients mean the pool is saturated.',
            queries: [
              { expr: pool(DATA_TIER.pgbouncerClientActive), legend: 'active {{database}} {{region}}' },
              { expr: pool(DATA_TIER.pgbouncerClientWaiting), legend: 'waiting {{database}} {{region}}' },
            ],
            unit: 'short',
            min: 0,
            width: 8,
          }),
          timeseriesPanel({
            title: 'Server connections: active vs idle',
            description: 'Connections PgBouncer holds to Postgres, in use and idle.',
            queries: [
              { expr: pool(DATA_TIER.pgbouncerServerActive), legend: 'active {{database}} {{region}}' },
              { expr: pool(DATA_TIER.pgbouncerServerIdle), legend: 'idle {{database}} {{region}}' },
            ],
            unit: 'short',
            min: 0,
            width: 8,
          }),
          timeseriesPanel({
            title: 'Longest client wait',
            description: 'How long the oldest queued client has waited for a server connection.',
            queries: [{ expr: `max by (region, database) (${series(DATA_TIER.pgbouncerClientMaxWait, data)})`, legend: '{{database}} {{region}}' }],
            unit: 's',
            min: 0,
            width: 8,
          }),
        ],
      },
      {
        title: 'Redis',
        panels: [
          timeseriesPanel({
            title: 'Redis memory used / maxmemory (sessions, rate limits)',
            description: 'Memory used as a share of maxmemory per Redis pod of the tiers that must not fill: the sessions tier (noeviction) rejects writes when full. The cache (allkeys-lru) runs near 100 % by design and is left out, as RedisMemoryPressure leaves it out; red at its 90 %.',
            queries: [
              {
                expr: `max by (region, pod) (${series(DATA_TIER.redisMemoryUsed, data, cacheLeftOut)}) / max by (region, pod) (${series(DATA_TIER.redisMemoryMax, data, cacheLeftOut)} > 0)`,
                legend: '{{pod}} {{region}}',
              },
            ],
            unit: 'percentunit',
            min: 0,
            steps: [[null, 'green'], [0.8, 'orange'], [0.9, 'red']],
          }),
          timeseriesPanel({
            title: 'Sentinel failovers (last hour)',
            description: 'Master changes per Redis tier in the last hour: the distinct master addresses the Sentinels reported, minus one.',
            queries: [
              {
                expr: `count by (region, master_name) (group by (region, master_name, master_address) (last_over_time(${series(DATA_TIER.sentinelMasterStatus, data)}[1h]))) - 1`,
                legend: '{{master_name}} {{region}}',
              },
            ],
            unit: 'short',
            decimals: 0,
            min: 0,
            steps: [[null, 'green'], [1, 'orange']],
          }),
        ],
      },
    ],
  });
}
