/**
 * Turns the charts of a cdk8s App into file contents in memory: one file per chart, named after
 * the chart id. Nothing touches the disk here, so tests can render and compare cheaply.
 */
import { ApiObject, Chart, DependencyGraph, type App } from 'cdk8s';
import { timed } from '../timings';
import { useFastToJson } from './fast-to-json';
import { canonicalDocuments, type KubeObject, yamlFile } from './normalise';

// Every ApiObject renders through fast-to-json.ts: cdk8s' result in one pass instead of two.
useFastToJson();

export interface RenderedFile {
  /** Path relative to the output root, e.g. us-east-1/namespaces.yaml. */
  readonly path: string;
  readonly content: string;
  readonly objects: number;
  /**
   * The documents `content` was written from (YAML files only): synth validates these in memory
   * instead of parsing its own output back; test/synth/in-memory-validation.test.ts proves the
   * YAML parses back to exactly them.
   */
  readonly documents?: readonly unknown[];
}

/** Runs every construct's validation first, as `App.synth()` would, and reports them all. */
function validateApp(app: App): void {
  const errors = app.node
    .findAll()
    .flatMap((construct) => construct.node.validate().map((message) => `[${construct.node.path}] ${message}`));
  if (errors.length > 0) throw new Error(`chart validation failed:\n  ${errors.join('\n  ')}`);
}

/**
 * Every chart's objects, exactly as `Chart.toJson()` renders them. cdk8s resolves the dependencies
 * of the whole App and validates all of it on every `Chart.toJson()` (16 charts a region: 16 times);
 * here the first chart's call does that once, and the others take their objects in the order
 * `Chart.toJson()` would (cdk8s' chartToKube: dependency order, each object in its closest chart).
 */
export function appObjects(app: App): Map<Chart, KubeObject[]> {
  const out = new Map<Chart, KubeObject[]>();
  (app.charts as Chart[]).forEach((chart, index) => {
    const objects = index === 0
      ? (chart.toJson() as KubeObject[])
      : new DependencyGraph(chart.node).topology()
        .filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === chart)
        .map((o) => o.toJson() as KubeObject);
    out.set(chart, objects);
  });
  return out;
}

export function renderApp(app: App, folder: string, header: readonly string[]): RenderedFile[] {
  timed('chart build', () => validateApp(app));
  const files: RenderedFile[] = [];
  const all = timed('objects (cdk8s toJson)', () => appObjects(app));
  for (const [chart, objects] of all) {
    if (objects.length === 0) continue;
    const seen = new Set<string>();
    for (const o of objects) {
      const key = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      if (seen.has(key)) throw new Error(`chart ${chart.node.id} renders ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} twice`);
      seen.add(key);
    }
    const documents = timed('YAML', () => canonicalDocuments(objects));
    const content = timed('YAML', () => yamlFile(documents, header));
    files.push({ path: `${folder}/${chart.node.id}.yaml`, content, objects: objects.length, documents });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
