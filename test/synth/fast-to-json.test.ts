/**
 * Synth renders every ApiObject with tools/synth/fast-to-json.ts instead of cdk8s' own
 * `ApiObject.toJson()`. The result must be cdk8s' to the byte: here cdk8s' implementation (kept
 * as cdk8sToJson) is the reference, for every object of every App synth builds (the generated L1
 * classes map the result of `super.toJson()`, so the whole `toJson()` is compared) and for the
 * corners of cdk8s' resolve and sanitize the shipped charts may not reach.
 */
import { ApiObject, App, Chart, type IResolver, JsonPatch, Lazy, type ResolutionContext } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { cdk8sToJson, useFastToJson } from '../../tools/synth/fast-to-json';
import { appObjects } from '../../tools/synth/render';
import { REGIONS_DIR } from '../support/regions';

const fastToJson = (() => {
  useFastToJson();
  return ApiObject.prototype.toJson;
})();

/** `o.toJson()` (its class's own, on top of ApiObject's) with ApiObject's from cdk8s, then from us. */
function bothWays(o: ApiObject): { theirs: string; ours: string } {
  const run = (impl: () => unknown) => {
    ApiObject.prototype.toJson = impl as () => any;
    try {
      return JSON.stringify(o.toJson());
    } catch (error) {
      return `throws: ${(error as Error).message}`;
    } finally {
      ApiObject.prototype.toJson = fastToJson;
    }
  };
  return { theirs: run(cdk8sToJson), ours: run(fastToJson) };
}

/** A chart in a fresh App (`resolvers` as given) with one object of `props`. */
function objectWith(props: Record<string, unknown>, resolvers?: IResolver[]): ApiObject {
  const chart = new Chart(new App({ outdir: '/nonexistent', ...(resolvers ? { resolvers } : {}) }), 'c');
  return new ApiObject(chart, 'o', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'o', labels: { b: '2', a: '1' } }, ...props });
}

class Quantityish {
  constructor(readonly value: string | number) {}
}

describe('fast-to-json: cdk8s ApiObject.toJson, in one pass', () => {
  it('renders every object of every App synth builds exactly as cdk8s does', () => {
    const plan = loadPlan(REGIONS_DIR);
    const builds: ((app: App) => void)[] = [(app) => definition.buildGlobal(app, plan), ...plan.regions.map((r) => (app: App) => definition.buildRegion(app, r))];
    let compared = 0;
    for (const build of builds) {
      const app = new App({ outdir: '/nonexistent' });
      build(app);
      appObjects(app); // prepares the App (dependencies, validation), as synth does
      for (const o of app.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
        const { theirs, ours } = bothWays(o);
        expect(ours, o.node.path).toBe(theirs);
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(900);
  });

  it('resolves Lazy values, tokens and number-or-string unions, drops empty values and sorts keys as cdk8s does', () => {
    const o = objectWith({
      data: {
        z: Lazy.any({ produce: () => ({ nested: Lazy.any({ produce: () => 'deep' }), gone: undefined }) }),
        y: { resolve: () => 'from a token' },
        x: new Quantityish('500m'),
        w: [1, null, undefined, Lazy.any({ produce: () => null }), { b: 1, a: [] }],
        v: Lazy.any({ produce: () => undefined }),
        '10': 'integer-like key',
        '2': 'another',
        u: {},
      },
    });
    const { theirs, ours } = bothWays(o);
    expect(theirs).toContain('"deep"');
    expect(ours).toBe(theirs);
  });

  it('renders metadata as cdk8s does: keys sorted, empty arrays and objects dropped, extra fields resolved', () => {
    const o = objectWith({ spec: { list: [], map: {} } });
    o.metadata.addAnnotation('z.example.com/empty', '');
    o.metadata.addLabel('lazy', Lazy.any({ produce: () => 'produced' }) as unknown as string);
    o.metadata.add('generateName', Lazy.any({ produce: () => 'gen-' }));
    o.metadata.add('emptyList', []);
    o.metadata.add('nested', { gone: {}, none: [], kept: { v: new Quantityish(3) } });
    o.metadata.addFinalizers('example.com/keep');
    const bare = objectWith({});
    (bare.metadata as unknown as { labels: object }).labels = {};
    for (const object of [o, bare]) {
      const { theirs, ours } = bothWays(object);
      expect(ours).toBe(theirs);
    }
    const { theirs } = bothWays(o);
    expect(theirs).toContain('"generateName":"gen-"');
    expect(theirs).toContain('"nested":{"kept":{"v":{"value":3}}}');
    expect(theirs).not.toContain('emptyList');
    expect(theirs).toContain('"spec":{"list":[],"map":{}}');
    expect(bothWays(bare).theirs).not.toContain('labels');
  });

  it('produces each Lazy as often and in the order cdk8s does', () => {
    const order: string[] = [];
    const lazy = (name: string) => Lazy.any({ produce: () => (order.push(name), name) });
    const o = objectWith({ spec: { b: lazy('b'), a: lazy('a'), list: [lazy('l1'), lazy('l2')] } });
    o.metadata.addLabel('m', lazy('m') as unknown as string);
    o.metadata.add('extra', lazy('extra'));
    const { theirs } = bothWays(o);
    const theirOrder = order.splice(0, order.length / 2);
    const ours = order.splice(0);
    expect(ours).toEqual(theirOrder);
    expect(theirs).toContain('"l2"');
  });

  it('applies JSON patches and keeps apiVersion, kind and metadata first', () => {
    const o = objectWith({ spec: { replicas: 1 } });
    o.addJsonPatch(JsonPatch.replace('/spec/replicas', 3), JsonPatch.add('/aaa', 'first in sorted order'));
    const { theirs, ours } = bothWays(o);
    expect(theirs).toMatch(/^\{"apiVersion":"v1","kind":"ConfigMap","metadata":/);
    expect(ours).toBe(theirs);
  });

  it('fails on an object cdk8s cannot render, with cdk8s words', () => {
    const { theirs, ours } = bothWays(objectWith({ spec: { when: new Date(0) } }));
    expect(theirs).toMatch(/^throws: Failed serializing construct at path 'c\/o'.*non-simple object of type 'Date'/);
    expect(ours).toBe(theirs);
  });

  it('honours CDK8S_DISABLE_SORT', () => {
    const before = process.env.CDK8S_DISABLE_SORT;
    process.env.CDK8S_DISABLE_SORT = '1';
    try {
      const { theirs, ours } = bothWays(objectWith({ data: { b: '1', a: '2' } }));
      expect(theirs).toContain('"b":"1","a":"2"');
      expect(ours).toBe(theirs);
    } finally {
      if (before === undefined) delete process.env.CDK8S_DISABLE_SORT;
      else process.env.CDK8S_DISABLE_SORT = before;
    }
  });

  it("leaves an App with resolvers of its own to cdk8s' code", () => {
    const upper: IResolver = { resolve: (c: ResolutionContext) => (typeof c.value === 'string' && c.value !== c.value.toUpperCase() ? c.replaceValue(c.value.toUpperCase()) : undefined) };
    const { theirs, ours } = bothWays(objectWith({ data: { a: 'shout' } }, [upper]));
    expect(theirs).toContain('"SHOUT"');
    expect(ours).toBe(theirs);
  });
});
