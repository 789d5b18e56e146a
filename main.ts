/**
 * The generator's entry point (`npm run synth`, or `cdk8s synth`): which charts make up a
 * region and which are global. Everything else lives in charts/ (what to render) and
 * tools/synth/ (how it reaches dist/).
 */
import { AlertsChart } from './charts/monitoring/alerts-chart';
import { ApiChart } from './charts/api/chart';
import { ArgoCdChart, BootstrapChart } from './charts/argocd/chart';
import { DashboardsChart } from './charts/dashboards/chart';
import { DnsChart } from './charts/dns/chart';
import { MeshCaChart } from './charts/mesh-ca/chart';
import { MeshChart } from './charts/mesh/chart';
import { MonitoringChart } from './charts/monitoring/chart';
import { NamespacesChart } from './charts/namespaces/chart';
import { NodesChart } from './charts/nodes/chart';
import { PgbouncerChart } from './charts/pgbouncer/chart';
import { PlatformAddonsChart } from './charts/argocd/addons-chart';
import { PostgresChart } from './charts/postgres/chart';
import { RedisChart } from './charts/redis/chart';
import { ServiceMonitorsChart } from './charts/monitoring/service-monitors-chart';
import { SecretStoreChart } from './charts/secret-store/chart';
import { ShardMapChart } from './charts/shard-map/chart';
import { StorageChart } from './charts/storage/chart';
import { TracingChart } from './charts/tracing/chart';
import { WebChart } from './charts/web/chart';
import { declaredConnections } from './charts/wiring/connections';
import { isServingRegion } from './regions/model';
import { main, type SynthDefinition } from './tools/synth/run';

export const definition: SynthDefinition = {
  buildRegion(app, plan) {
    new NamespacesChart(app, { plan });
    // Encrypted EBS StorageClasses (the region's KMS key): every PVC below names one of them.
    new StorageChart(app, { plan });
    // Karpenter node pools by risk: on-demand for the platform, on-demand base + spot burst for the API and web.
    new NodesChart(app, { plan });
    new MeshChart(app, { plan });
    // The shared root CA of the mesh: synced by the istiod add-on before istiod starts, not by the region.
    new MeshCaChart(app, { plan });
    // The store every ExternalSecret reads through: synced with External Secrets, before any of them.
    new SecretStoreChart(app, { plan });
    if (isServingRegion(plan.region)) new ShardMapChart(app, { plan });
    new PostgresChart(app, { plan });
    new PgbouncerChart(app, { plan });
    // A standby region (role: standby) only runs DR sites of shards and their monitoring.
    if (isServingRegion(plan.region)) {
      new ApiChart(app, { plan });
      new WebChart(app, { plan });
      new RedisChart(app, { plan });
      new TracingChart(app, { plan });
      new DashboardsChart(app, { plan });
    }
    new MonitoringChart(app, { plan });
    new AlertsChart(app, { plan });
    new ServiceMonitorsChart(app, { plan });
    if (isServingRegion(plan.region)) new DnsChart(app, { plan });
  },
  // Every runtime connection of a region: the mesh chart's policies come from it, and synth
  // proves each one hop by hop over the rendered tree (the wiring check) before dist/ changes.
  connections: declaredConnections,
  buildGlobal(app, plan) {
    new ArgoCdChart(app, { plan });
    new PlatformAddonsChart(app, { plan });
    new BootstrapChart(app, { plan });
  },
};

if (require.main === module) {
  process.exitCode = main(definition, process.argv.slice(2), __dirname);
}
