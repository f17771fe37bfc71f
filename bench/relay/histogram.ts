/**
 * Latency histograms for the bench: node:perf_hooks' `createHistogram` (HdrHistogram, 3
 * significant figures, fixed memory whatever the sample count), fed whole microseconds.
 * createHistogram records integers ≥ 1: a sample below 1 µs counts as 1 µs, and a negative one
 * (clock skew between processes) is counted in `negatives` and recorded as 1 µs.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export class Histogram {
  private readonly h: RecordableHistogram = createHistogram();
  /** Samples below zero (clock skew between processes). */
  negatives = 0;

  record(us: number): void {
    if (us < 0) this.negatives++;
    this.h.record(Math.max(1, Math.round(us)));
  }

  merge(other: Histogram): this {
    this.h.add(other.h);
    this.negatives += other.negatives;
    return this;
  }

  get count(): number {
    return this.h.count;
  }

  /** The value (µs) below which `p` (0..1) of the samples fall; NaN when empty. */
  percentile(p: number): number {
    return this.h.count ? this.h.percentile(Math.max(p * 100, 1e-9)) : NaN;
  }

  mean(): number {
    return this.h.count ? this.h.mean : NaN;
  }

  summary(): LatencySummary {
    const empty = this.h.count === 0;
    return {
      count: this.h.count,
      p50: this.percentile(0.5) / 1000,
      p99: this.percentile(0.99) / 1000,
      max: empty ? NaN : this.h.max / 1000,
      min: empty ? NaN : this.h.min / 1000,
      mean: this.mean() / 1000,
      negatives: this.negatives,
    };
  }
}

/** Milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
  negatives: number;
}

/** Percentiles (`ps` in 0..100) of millisecond samples, through a histogram of whole microseconds. */
export function percentilesMs(valuesMs: readonly number[], ps: readonly number[]): number[] {
  const h = createHistogram();
  for (const v of valuesMs) h.record(Math.max(1, Math.round(v * 1000)));
  return ps.map((p) => (h.count ? h.percentile(p) / 1000 : NaN));
}
