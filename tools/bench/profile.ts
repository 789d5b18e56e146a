/**
 * `tsx tools/bench/profile.ts <regionsDir> <outDir>`: the synth pipeline of tools/synth/run.ts,
 * phase by phase (module load, config load, chart build + render per region, region docs,
 * validation, the wiring check, write), using the same exported functions, so the bench can show where the
 * time goes without touching synth. Prints one JSON line on stdout.
 */
import * as path from 'node:path';

function ms(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

async function main(): Promise<void> {
  const [regionsDir, outDir] = process.argv.slice(2).map((p) => path.resolve(p));
  const phases: Record<string, number> = {};
  let t = process.hrtime.bigint();
  const { definition } = await import('../../main');
  const { loadPlan } = await import('../../regions/load');
  const { renderAll } = await import('../synth/run');
  const { writeDist } = await import('../synth/write-dist');
  const { validateRendered } = await import('../validate');
  const { loadTree, regionOfFile } = await import('../validate/load');
  const { checkWiring } = await import('../validate/wiring');
  const { describeObject, isRecord } = await import('../validate/types');
  const { regionDocFromApp } = await import('../docs/region-doc');
  const { App } = await import('cdk8s');
  phases['module load (cdk8s, charts, tsx transpile)'] = ms(t);

  t = process.hrtime.bigint();
  const plan = loadPlan(regionsDir);
  phases['config load + invariants'] = ms(t);

  t = process.hrtime.bigint();
  const files = renderAll(definition, plan, {});
  const renderMs = ms(t);

  // The docs are part of renderAll; time them again on their own (one fresh App per region) to split them out.
  let docsMs = 0;
  for (const regionPlan of plan.regions) {
    const app = new App({ outdir: '/nonexistent/cdk8s-unused' });
    definition.buildRegion(app, regionPlan);
    t = process.hrtime.bigint();
    regionDocFromApp(regionPlan.region.name, app);
    docsMs += ms(t);
  }
  phases['chart build + render (excl. docs)'] = renderMs - docsMs;
  phases['region docs'] = docsMs;

  let validateMs = 0;
  let wiringMs = 0;
  const plans = new Map(plan.regions.map((r) => [r.region.name, r]));
  const connections = (region: string) => (plans.has(region) ? definition.connections?.(plans.get(region)!) : undefined);
  t = process.hrtime.bigint();
  writeDist(files, {
    distDir: outDir,
    replace: 'all',
    check: (staging) => {
      let v = process.hrtime.bigint();
      const report = validateRendered(staging, files, { connections });
      validateMs = ms(v);
      if (report.findings.length > 0) throw new Error(`validation: ${report.findings.length} findings`);
      // The wiring check (layer 5) alone, on the same objects, to split it out.
      const entries = loadTree(staging).objects.filter((o) => isRecord(o.object)).map((o) => ({
        file: o.file, index: o.index, obj: o.object as Record<string, unknown>, region: o.region === undefined ? regionOfFile(o.file) : o.region, id: describeObject(o.object),
      }));
      v = process.hrtime.bigint();
      checkWiring(entries, connections);
      wiringMs = ms(v);
    },
  });
  const writeMs = ms(t);
  phases['validation (excl. wiring check)'] = validateMs - wiringMs;
  phases['wiring check'] = wiringMs;
  phases['write + swap'] = writeMs - validateMs;
  process.stdout.write(`${JSON.stringify({ phases, files: files.length, maxRSS: process.resourceUsage().maxRSS })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
