/**
 * The generator's entry point (`npm run synth`, or `cdk8s synth`): which charts make up a
 * region and which are global. Everything else lives in charts/ (what to render) and
 * tools/synth/ (how it reaches dist/).
 */
import { AlertsChart } from './charts/alerts';
import { ApiChart } from './charts/api';
import { ArgoCdChart, BootstrapChart } from './charts/argocd';
import { DashboardsChart } from './charts/dashboards';
import { MeshChart } from './charts/mesh';
import { MonitoringChart } from './charts/monitoring';
import { NamespacesChart } from './charts/namespaces';
import { PgbouncerChart } from './charts/pgbouncer';
import { PlatformAddonsChart } from './charts/platform-addons';
import { PostgresChart } from './charts/postgres';
import { RedisChart } from './charts/redis';
import { ServiceMonitorsChart } from './charts/service-monitors';
import { ShardMapChart } from './charts/shard-map';
import { TracingChart } from './charts/tracing';
import { WebChart } from './charts/web';
import { main, type SynthDefinition } from './tools/synth/run';

export const definition: SynthDefinition = {
  buildRegion(app, plan) {
    new NamespacesChart(app, { plan });
    new MeshChart(app, { plan });
    new ShardMapChart(app, { plan });
    new PostgresChart(app, { plan });
    new PgbouncerChart(app, { plan });
    new ApiChart(app, { plan });
    new WebChart(app, { plan });
    new RedisChart(app, { plan });
    new TracingChart(app, { plan });
    new DashboardsChart(app, { plan });
    new MonitoringChart(app, { plan });
    new AlertsChart(app, { plan });
    new ServiceMonitorsChart(app, { plan });
  },
  buildGlobal(app, plan) {
    new ArgoCdChart(app, { plan });
    new PlatformAddonsChart(app, { plan });
    new BootstrapChart(app, { plan });
  },
};

if (require.main === module) {
  process.exitCode = main(definition, process.argv.slice(2), __dirname);
}
