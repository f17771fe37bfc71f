/**
 * Fixed-memory latency histogram in microseconds: 10 µs buckets up to 100 ms, 1 ms buckets up to
 * 120 s (beyond: the last bucket; the exact max is kept). Millions of samples cost nothing extra.
 */
const FINE_US = 10;
const FINE_LIMIT_US = 100_000;
const COARSE_US = 1_000;
const COARSE_LIMIT_US = 120_000_000;
const FINE_BUCKETS = FINE_LIMIT_US / FINE_US;
const COARSE_BUCKETS = (COARSE_LIMIT_US - FINE_LIMIT_US) / COARSE_US;

export class Histogram {
  private readonly counts = new Float64Array(FINE_BUCKETS + COARSE_BUCKETS);
  count = 0;
  /** Samples below zero (clock skew between processes); recorded as 0. */
  negatives = 0;
  max = 0;
  min = Infinity;
  private sum = 0;

  record(us: number): void {
    if (us < 0) {
      this.negatives++;
      us = 0;
    }
    let index: number;
    if (us < FINE_LIMIT_US) index = (us / FINE_US) | 0;
    else index = FINE_BUCKETS + Math.min(COARSE_BUCKETS - 1, ((us - FINE_LIMIT_US) / COARSE_US) | 0);
    this.counts[index]++;
    this.count++;
    this.sum += us;
    if (us > this.max) this.max = us;
    if (us < this.min) this.min = us;
  }

  merge(other: Histogram): this {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.negatives += other.negatives;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
    return this;
  }

  /** The value (µs, bucket midpoint) below which `p` (0..1) of the samples fall; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const value = i < FINE_BUCKETS ? i * FINE_US + FINE_US / 2 : FINE_LIMIT_US + (i - FINE_BUCKETS) * COARSE_US + COARSE_US / 2;
        return Math.min(value, this.max);
      }
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.percentile(0.5) / 1000,
      p99: this.percentile(0.99) / 1000,
      max: this.count ? this.max / 1000 : NaN,
      min: this.count ? this.min / 1000 : NaN,
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
