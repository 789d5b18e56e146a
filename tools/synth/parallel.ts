/**
 * Synth on two threads (issue 16), with three cores or more (wantsWorker): the regions are shared
 * between the main thread and one worker thread running the same bundle. Each thread builds,
 * renders and validates its regions; the main thread also renders and validates the global
 * argocd/ files, and writes everything.
 *
 * The worker does not read the config: the main thread reads and checks it, and hands the worker
 * the checked data with its regions (structured clone), from which it builds the same plan.
 *
 * Same result as one thread, byte for byte and finding for finding: a region is its own cluster,
 * so the validator only ever looks at one region folder plus argocd/ at a time; the worker renders
 * argocd/ too and validates its regions with it in view (validateRenderedRegions), as one run over
 * the whole tree would (test/synth/parallel.test.ts).
 */
import * as os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { buildPlan, type CheckedConfig, type PlatformPlan } from '../../regions/plan';
import { timed, timings, type Timings } from '../timings';
import { validateRenderedRegions, type ValidationReport } from '../validate';
import type { ConnectionsOf } from '../validate/wiring';
import type { RenderedFile } from './render';

/** What a worker is asked to do. */
export interface ShareRequest {
  /** Output root: findings name files under it, as if read from there. */
  readonly distDir: string;
  readonly only?: readonly string[];
  readonly validate: boolean;
  readonly debug?: boolean;
}

/** What a worker answers: its files (with their documents when validating) and its report, or what went wrong. */
export interface ShareReply {
  readonly files?: readonly RenderedFile[];
  readonly report?: ValidationReport;
  /** The failure, already worded for the user (failureMessage). */
  readonly failure?: string;
  readonly timings?: Timings;
  /** Its progress lines (synth: <region> N objects ...), printed by the main thread in order. */
  readonly log?: readonly string[];
}

const WORKER_FLAG = 'bookedbarberSynthShare';

/** Relative work of a region, for sharing: a standby region renders a fraction of a serving one. */
function weight(plan: PlatformPlan, name: string): number {
  const region = plan.regions.find((r) => r.region.name === name);
  return region?.region.role === 'standby' ? 1 : 4;
}

/**
 * The regions the main thread renders and those the worker renders, by weight (a serving region
 * 4, a standby one 1). The main thread also renders, validates and writes argocd/: an
 * ApplicationSet and a few Applications per region (1.2 + 0.1 a region); the worker renders it
 * too, as the context its regions are validated in (1). Both start on their regions when the main
 * thread has checked the config (the worker has loaded its code meanwhile). Weights from
 * `npm run bench`'s phase tables of both threads (with 2 + 0.1 and 0.5 the main thread waited
 * ~150 ms for the worker). Greedy, heaviest first, ties to the main thread; deterministic.
 */
export function shareRegions(plan: PlatformPlan, names: readonly string[], options: { readonly global: boolean }): [string[], string[]] {
  const mine: string[] = [];
  const theirs: string[] = [];
  let mainLoad = options.global ? 1.2 + 0.1 * plan.regions.length : 0;
  let workerLoad = options.global ? 1 : 0;
  const ordered = [...names].sort((a, b) => weight(plan, b) - weight(plan, a) || (a < b ? -1 : a > b ? 1 : 0));
  for (const name of ordered) {
    if (mainLoad <= workerLoad) {
      mine.push(name);
      mainLoad += weight(plan, name);
    } else {
      theirs.push(name);
      workerLoad += weight(plan, name);
    }
  }
  const order = (list: string[]) => names.filter((n) => list.includes(n));
  return [order(mine), order(theirs)];
}

/**
 * Whether a second thread pays: at least two regions to share, and a core of its own, i.e. three
 * cores or more. On two cores the second one is not idle while synth runs on one thread: V8's own
 * background threads (the optimizing compiler, concurrent marking) use ~0.6 s of CPU there in a
 * 1 s synth (`perf record -s`, per thread). A worker competes with them, and brings its own: on a
 * 2-vCPU machine one thread was 16 % faster for the shipped regions (20 alternating runs) and as
 * fast for 64 (`npm run bench` runs the shipped regions both ways every time).
 * BOOKEDBARBER_THREADS=1 or 2 decides. `cores`: this machine's, unless a test says otherwise.
 */
export function wantsWorker(regionCount: number, cores = availableCores()): boolean {
  if (regionCount < 2) return false;
  const setting = process.env.BOOKEDBARBER_THREADS;
  if (setting === '1' || setting === '2') return setting === '2';
  return cores >= 3;
}

function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * A started worker: give it its regions and the checked config (once) for its answer, or stop it
 * when the main thread fails first.
 */
export interface Share {
  readonly assign: (regions: readonly string[], config: CheckedConfig) => Promise<ShareReply>;
  readonly stop: () => void;
}

/**
 * Starts a worker on `script` (the launcher that runs this bundle) for `request`, before the main
 * thread has read the config: the worker loads its code meanwhile, then waits for its regions.
 */
export function startShare(script: string, request: ShareRequest): Share {
  const worker = new Worker(script, { workerData: { [WORKER_FLAG]: request }, argv: [] });
  const reply = new Promise<ShareReply>((resolve, reject) => {
    worker.once('message', (answer: ShareReply) => resolve(answer));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the synth worker thread stopped (exit code ${code}) before it answered`)));
  });
  // Awaited later: until then a failure must not count as unhandled.
  reply.catch(() => undefined);
  return {
    assign: (regions, config) => {
      worker.postMessage({ regions, config });
      return reply;
    },
    stop: () => void worker.terminate(),
  };
}

/** The request, when this thread is a synth worker. */
export function shareRequest(): ShareRequest | undefined {
  if (isMainThread) return undefined;
  const data = workerData as Record<string, unknown> | null;
  return data && typeof data === 'object' && WORKER_FLAG in data ? (data[WORKER_FLAG] as ShareRequest) : undefined;
}

/** How a worker renders its share (the charts of run.ts), logging progress to `log`. */
export type RenderShare = (
  plan: PlatformPlan, share: { regions: readonly string[]; global: boolean }, log: (line: string) => void,
) => { files: RenderedFile[]; connections?: ConnectionsOf };

/**
 * The worker's side: load the chart code (`warm`) at once, then build the plan from the checked
 * config the main thread hands over with the regions, render and validate them, and answer once.
 */
export function serveShare(request: ShareRequest, render: RenderShare, warm: () => void, describeFailure: (error: unknown) => string): void {
  let failure: string | undefined;
  try {
    warm();
  } catch (error) {
    failure = describeFailure(error);
  }
  parentPort!.once('message', ({ regions, config }: { regions: readonly string[]; config: CheckedConfig }) => {
    if (failure !== undefined) return parentPort!.postMessage({ failure });
    let plan: PlatformPlan;
    try {
      plan = timed('plan (from the checked config)', () => buildPlan(config));
    } catch (error) {
      return parentPort!.postMessage({ failure: describeFailure(error) });
    }
    parentPort!.postMessage(answerShare(request, plan, regions, render, describeFailure));
  });
}

/** The worker's answer for `regions` (a failure is an answer too, worded for the user). */
export function answerShare(
  request: ShareRequest, plan: PlatformPlan, regions: readonly string[], render: RenderShare, describeFailure: (error: unknown) => string,
): ShareReply {
  const log: string[] = [];
  try {
    // argocd/ is rendered here too when the run writes it: the rules see it next to each region.
    const { files, connections } = render(plan, { regions, global: !request.only }, (line) => log.push(line));
    const global = files.filter((f) => f.path.startsWith('argocd/'));
    const own = files.filter((f) => !f.path.startsWith('argocd/'));
    const report = request.validate
      ? timed('validation', () => validateRenderedRegions(request.distDir, own, global, { connections, contextDir: request.only ? request.distDir : undefined, treeRules: false }))
      : undefined;
    // The documents go back when validating: the main thread runs the whole-tree rules over both shares.
    return { files: own.map(({ path, content, objects, documents }) => ({ path, content, objects, ...(request.validate ? { documents } : {}) })), report, timings: timings(), log };
  } catch (error) {
    return { failure: describeFailure(error) };
  }
}
