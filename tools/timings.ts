/**
 * Where a synth spends its time, phase by phase (`npm run synth -- --timings <file>`, read by
 * `npm run bench`). One recorder per process; recording costs a clock read per phase, so it is
 * always on and only written out when asked.
 */
import { performance } from 'node:perf_hooks';

const phases = new Map<string, number>();

/** Runs `work`, adding its wall time to `phase` (phases may repeat: per region, per file). */
export function timed<T>(phase: string, work: () => T): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    phases.set(phase, (phases.get(phase) ?? 0) + performance.now() - started);
  }
}

/** Adds time measured elsewhere (e.g. process start-up) to `phase`. */
export function record(phase: string, ms: number): void {
  phases.set(phase, (phases.get(phase) ?? 0) + ms);
}

export interface Timings {
  /** Milliseconds per phase, in the order first recorded; `a: b` is the part `b` of phase `a`. */
  readonly phases: Record<string, number>;
  /** Since the process started (performance.now()): everything but npm's own start-up. */
  readonly processMs: number;
  readonly maxRssKb: number;
}

export function timings(): Timings {
  return {
    phases: Object.fromEntries([...phases].map(([k, v]) => [k, Math.round(v * 10) / 10])),
    processMs: Math.round(performance.now()),
    maxRssKb: process.resourceUsage().maxRSS,
  };
}
