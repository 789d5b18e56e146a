/**
 * The generator's entry point (`npm run synth`, or `cdk8s synth`): which charts make up a
 * region and which are global. Everything else lives in charts/ (what to render) and
 * tools/synth/ (how it reaches dist/).
 */
import { ApiChart } from './charts/api';
import { ArgoCdChart, BootstrapChart } from './charts/argocd';
import { MeshChart } from './charts/mesh';
import { NamespacesChart } from './charts/namespaces';
import { PlatformAddonsChart } from './charts/platform-addons';
import { ShardMapChart } from './charts/shard-map';
import { WebChart } from './charts/web';
import { main, type SynthDefinition } from './tools/synth/run';

export const definition: SynthDefinition = {
  buildRegion(app, plan) {
    new NamespacesChart(app, { plan });
    new MeshChart(app, { plan });
    new ShardMapChart(app, { plan });
    new ApiChart(app, { plan });
    new WebChart(app, { plan });
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
