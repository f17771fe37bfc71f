import { fitBradleyTerry, toRatings } from './bradley-terry.js';
import { sampleMultinomial } from './binomial.js';
import type { OutcomeCounts } from './outcomes.js';
import { mulberry32 } from '../random.js';

/**
 * Bootstrap confidence intervals for Bradley-Terry ratings, as FastChat computes them: each round
 * redraws all N battles at once as a multinomial over the observed (pair, outcome) cells, which is
 * the same distribution as resampling battles with replacement at a fraction of the cost, then
 * refits. Rounds start from the full-data fit, so each refit takes a few Newton steps.
 */

export interface BootstrapOptions {
  rounds: number;
  seed: number;
  /** Full-data β, used as the warm start of every round. */
  start?: Float64Array;
}

export interface RatingIntervals {
  low: Float64Array;
  high: Float64Array;
}

/** One array of ratings (in `table.models` order) per round. Same seed, same rounds. */
export function bootstrapRatings(table: OutcomeCounts, options: BootstrapOptions): Float64Array[] {
  const rng = mulberry32(options.seed);
  const probabilities = Float64Array.from(table.counts, (count) => count / table.battles);
  const resampled = new Float64Array(table.counts.length);
  const rounds: Float64Array[] = [];
  for (let round = 0; round < options.rounds; round++) {
    sampleMultinomial(table.battles, probabilities, rng, resampled);
    rounds.push(toRatings(fitBradleyTerry(table, { counts: resampled, initial: options.start })));
  }
  return rounds;
}

/** 2.5 / 97.5 percentiles of each model's bootstrap ratings (linear interpolation, as numpy). */
export function percentileIntervals(rounds: readonly Float64Array[], modelCount: number): RatingIntervals {
  const low = new Float64Array(modelCount);
  const high = new Float64Array(modelCount);
  for (let model = 0; model < modelCount; model++) {
    const sorted = Float64Array.from(rounds, (ratings) => ratings[model]).sort();
    low[model] = percentile(sorted, 0.025);
    high[model] = percentile(sorted, 0.975);
  }
  return { low, high };
}

/** Rank (UB): 1 + number of models whose lower bound exceeds this model's upper bound. */
export function rankUpperBound(intervals: RatingIntervals): number[] {
  const { low, high } = intervals;
  return Array.from(high, (upper) => 1 + low.filter((lower) => lower > upper).length);
}

function percentile(sorted: Float64Array, fraction: number): number {
  const position = fraction * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}
