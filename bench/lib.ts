/**
 * Small measuring helpers for benchmarks: bounded warm-up and iteration counts, per-op statistics, and
 * interleaved A/B runs so a baseline and a candidate see the same machine state (JIT, GC, CPU clock).
 */

/** One printed figure: `name value unit`. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
}

/** Per-operation statistics in milliseconds. */
export interface Stats {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  min: number;
}

export interface MeasureOptions {
  /** Runs discarded before measuring (JIT, connection pools); default 50. */
  warmup?: number;
  /** Measured runs; default 500. */
  iterations?: number;
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function statsOf(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? Number.NaN,
  };
}

async function timeOnce(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Measures `fn` sequentially: `warmup` discarded runs, then `iterations` timed runs. */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<Stats> {
  const { warmup = 50, iterations = 500 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) samples.push(await timeOnce(fn));
  return statsOf(samples);
}

export interface Comparison {
  baseline: Stats;
  candidate: Stats;
  /** candidate p50 / baseline p50 (medians resist GC pauses and scheduler noise). */
  ratio: number;
}

/**
 * Measures `baseline` and `candidate` interleaved: each round runs both, alternating which goes first
 * (ABBA), so drift in machine state hits both equally.
 */
export async function compare(
  baseline: () => unknown,
  candidate: () => unknown,
  options: MeasureOptions = {},
): Promise<Comparison> {
  const { warmup = 50, iterations = 500 } = options;
  for (let i = 0; i < warmup; i++) {
    await baseline();
    await candidate();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < iterations; i++) {
    if (i % 2 === 0) {
      a.push(await timeOnce(baseline));
      b.push(await timeOnce(candidate));
    } else {
      b.push(await timeOnce(candidate));
      a.push(await timeOnce(baseline));
    }
  }
  const baselineStats = statsOf(a);
  const candidateStats = statsOf(b);
  return {
    baseline: baselineStats,
    candidate: candidateStats,
    ratio: candidateStats.p50 / baselineStats.p50,
  };
}

/** `name value unit` with three decimals. */
export function formatFigure(figure: Figure): string {
  return `${figure.name} ${figure.value.toFixed(3)} ${figure.unit}`;
}
