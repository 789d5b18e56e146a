/**
 * The generator's entry point (`npm run synth`, or `cdk8s synth`): which charts make up a
 * region and which are global. Everything else lives in charts/ (what to render) and
 * tools/synth/ (how it reaches dist/).
 */
import { ArgoCdChart } from './charts/argocd';
import { NamespacesChart } from './charts/namespaces';
import { main, type SynthDefinition } from './tools/synth/run';

export const definition: SynthDefinition = {
  buildRegion(app, plan) {
    new NamespacesChart(app, { plan });
  },
  buildGlobal(app, plan) {
    new ArgoCdChart(app, { plan });
  },
};

if (require.main === module) {
  process.exitCode = main(definition, process.argv.slice(2), __dirname);
}
