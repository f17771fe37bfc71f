import type { Leaderboard } from './types.js';

/**
 * Which two models fight next. Strategies weigh every allowed unordered pair, draw one, then
 * draw the sides with a fair coin so no model sits on one side more often than the other.
 *
 * - `uniform`: every allowed pair equally likely.
 * - `undersampled` (ComparIA-style): per-model weight w = 1 / (n + s)^α with n the model's
 *   counted votes; a pair weighs w_a · w_b. The cap keeps a new model to at most CAP times the
 *   weight of the busiest one, so it does not appear in nearly every battle (which would make it
 *   easy to recognise) while it catches up.
 * - `uncertainty` (default): a pair weighs (width_a² + width_b²) × (floor + overlap), where width
 *   is the 95% interval width and overlap is the share of the narrower interval covered by the
 *   other. Wide intervals need votes most; a battle between models of similar strength carries the
 *   most information (p(1−p) is largest near p = ½), and overlapping intervals are exactly the
 *   rankings still in doubt. The floor keeps distant pairs possible. A model without votes counts
 *   as maximally uncertain: twice the widest known interval, overlapping everything.
 */

export type PairingStrategy = 'uniform' | 'undersampled' | 'uncertainty';
export const PAIRING_STRATEGIES: readonly PairingStrategy[] = ['uniform', 'undersampled', 'uncertainty'];
export const DEFAULT_PAIRING_STRATEGY: PairingStrategy = 'uncertainty';

export interface ModelPairingStats {
  votes: number;
  /** 95% interval; absent (or equal bounds) when not yet estimated. */
  ciLow?: number;
  ciHigh?: number;
}

/** Per-model statistics by model id; models not in it have no votes yet. */
export type PairingStats = ReadonlyMap<string, ModelPairingStats>;

const UNDERSAMPLED_SMOOTHING = 5;
const UNDERSAMPLED_EXPONENT = 1;
const UNDERSAMPLED_CAP = 10;
const OVERLAP_FLOOR = 0.1;
/** Used as everyone's width before any interval exists; its value cancels out then. */
const PRIOR_WIDTH = 400;
/** Keeps a degenerate zero-width interval (bootstrap off) from zeroing its model's weight. */
const MIN_WIDTH = 1;

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function pairingStatsFromLeaderboard(leaderboard: Pick<Leaderboard, 'rows'>): Map<string, ModelPairingStats> {
  return new Map(leaderboard.rows.map((row) => [row.model, { votes: row.votes, ciLow: row.ciLow, ciHigh: row.ciHigh }]));
}

/** Null when fewer than two distinct models are given or every pair is excluded. */
export function samplePair(
  strategy: PairingStrategy,
  models: readonly string[],
  stats: PairingStats,
  rng: () => number,
  exclude: ReadonlySet<string> = new Set(),
): [string, string] | null {
  const candidates = [...new Set(models)];
  const pairs = allowedPairs(candidates, exclude);
  if (pairs.length === 0) return null;
  const weights = PAIR_WEIGHTS[strategy](pairs, candidates, stats);
  const [a, b] = pairs[pickWeighted(weights, rng)];
  return rng() < 0.5 ? [a, b] : [b, a];
}

type Pair = [string, string];
type PairWeigher = (pairs: Pair[], candidates: string[], stats: PairingStats) => number[];

const PAIR_WEIGHTS: Record<PairingStrategy, PairWeigher> = {
  uniform: (pairs) => pairs.map(() => 1),
  undersampled: undersampledWeights,
  uncertainty: uncertaintyWeights,
};

function allowedPairs(candidates: string[], exclude: ReadonlySet<string>): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < candidates.length; i++) {
    for (let j = i + 1; j < candidates.length; j++) {
      if (!exclude.has(pairKey(candidates[i], candidates[j]))) pairs.push([candidates[i], candidates[j]]);
    }
  }
  return pairs;
}

function undersampledWeights(pairs: Pair[], candidates: string[], stats: PairingStats): number[] {
  const raw = new Map(
    candidates.map((model) => {
      const votes = stats.get(model)?.votes ?? 0;
      return [model, 1 / (votes + UNDERSAMPLED_SMOOTHING) ** UNDERSAMPLED_EXPONENT];
    }),
  );
  const cap = UNDERSAMPLED_CAP * Math.min(...raw.values());
  const weight = (model: string) => Math.min(raw.get(model)!, cap);
  return pairs.map(([a, b]) => weight(a) * weight(b));
}

interface Interval {
  low: number;
  high: number;
}

function uncertaintyWeights(pairs: Pair[], candidates: string[], stats: PairingStats): number[] {
  const intervals = new Map(candidates.map((model) => [model, knownInterval(stats.get(model))]));
  const knownWidths = [...intervals.values()].filter((i) => i !== null).map((i) => width(i));
  const unknownWidth = knownWidths.length > 0 ? 2 * Math.max(...knownWidths) : PRIOR_WIDTH;
  return pairs.map(([a, b]) => {
    const first = intervals.get(a)!;
    const second = intervals.get(b)!;
    const widthA = first ? width(first) : unknownWidth;
    const widthB = second ? width(second) : unknownWidth;
    const overlap = first && second ? overlapShare(first, second) : 1;
    return (widthA ** 2 + widthB ** 2) * (OVERLAP_FLOOR + overlap);
  });
}

function knownInterval(stats: ModelPairingStats | undefined): Interval | null {
  if (!stats || stats.votes === 0 || stats.ciLow === undefined || stats.ciHigh === undefined) return null;
  return { low: stats.ciLow, high: stats.ciHigh };
}

function width(interval: Interval): number {
  return Math.max(interval.high - interval.low, MIN_WIDTH);
}

/** Length of the intersection over the narrower width: 1 when one interval holds the other. */
function overlapShare(a: Interval, b: Interval): number {
  const intersection = Math.min(a.high, b.high) - Math.max(a.low, b.low);
  return Math.max(0, intersection) / Math.min(width(a), width(b));
}

/** Index drawn with probability proportional to its weight; uniform if the weights are degenerate. */
function pickWeighted(weights: number[], rng: () => number): number {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (!(total > 0 && Number.isFinite(total))) return Math.floor(rng() * weights.length);
  let target = rng() * total;
  for (let index = 0; index < weights.length; index++) {
    target -= weights[index];
    if (target < 0) return index;
  }
  return weights.length - 1; // rounding left a sliver past the last weight
}
