import type { Leaderboard } from '../../src/lib/shared/leaderboard.js';

/**
 * Which two models fight next. Strategies weigh every allowed unordered pair, draw one, then
 * draw the sides with a fair coin so no model sits on one side more often than the other.
 *
 * - `uniform`: every allowed pair equally likely.
 * - `undersampled` (ComparIA-style): per-model weight w = 1 / (n + s)^α with n the model's
 *   counted votes; a pair weighs w_a · w_b. The cap keeps a new model to at most CAP times the
 *   weight of the busiest one, so it does not appear in nearly every battle (which would make it
 *   easy to recognise) while it catches up.
 * - `uncertainty` (default): a pair weighs (u_a + u_b) · p(1 − p), with u = (width / widest)^8
 *   (at least 0.1) for each model's 95% interval width, and p the current probability that one
 *   beats the other.
 *   The width term sends votes to the models whose intervals are widest; p(1 − p) (¼ for equal
 *   ratings, falling as they separate) is a smooth measure of how much the two intervals overlap,
 *   and is exactly the Fisher information one battle adds, so close battles teach the most.
 *   A literal interval-overlap factor was tried and lost to uniform in bench/rating.ts: it starves
 *   pairs that do not overlap, and the extremes of the board need those links. A model without
 *   votes counts as maximally uncertain: as wide as the widest known interval and p = ½ against
 *   everyone. With no intervals at all, every pair weighs the same.
 */

export type PairingStrategy = 'uniform' | 'undersampled' | 'uncertainty';
export const PAIRING_STRATEGIES: readonly PairingStrategy[] = ['uniform', 'undersampled', 'uncertainty'];
export const DEFAULT_PAIRING_STRATEGY: PairingStrategy = 'uncertainty';

export interface ModelPairingStats {
  votes: number;
  /** Bradley-Terry rating; with the interval, absent until the model has rated votes. */
  rating?: number;
  /** 95% interval; equal bounds when the bootstrap is off. */
  ciLow?: number;
  ciHigh?: number;
}

/** Per-model statistics by model id; models not in it have no votes yet. */
export type PairingStats = ReadonlyMap<string, ModelPairingStats>;

const UNDERSAMPLED_SMOOTHING = 5;
const UNDERSAMPLED_EXPONENT = 1;
const UNDERSAMPLED_CAP = 10;
/** Steep enough that the widest intervals get most votes (bench: 8 and 12 alike, 4 worse). */
const WIDTH_EXPONENT = 8;
/**
 * Every model keeps at least this share of the widest model's urgency, so a new or very uncertain
 * model is not in nearly every battle, where voters would learn to recognise it. The bench shows
 * no measurable cost.
 */
const URGENCY_FLOOR = 0.1;
/** Keeps a degenerate zero-width interval (bootstrap off) from zeroing its model's weight. */
const MIN_WIDTH = 1;

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function pairingStatsFromLeaderboard(
  leaderboard: Pick<Leaderboard, 'rows'>,
): Map<string, ModelPairingStats> {
  return new Map(
    leaderboard.rows.map(({ model, votes, rating, ciLow, ciHigh }) => [model, { votes, rating, ciLow, ciHigh }]),
  );
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

interface Estimate {
  rating: number;
  width: number;
}

function uncertaintyWeights(pairs: Pair[], candidates: string[], stats: PairingStats): number[] {
  const estimates = new Map(candidates.map((model) => [model, knownEstimate(stats.get(model))]));
  const widest = Math.max(MIN_WIDTH, ...[...estimates.values()].map((estimate) => estimate?.width ?? 0));
  const urgency = (estimate: Estimate | null) =>
    Math.max(URGENCY_FLOOR, ((estimate?.width ?? widest) / widest) ** WIDTH_EXPONENT);
  return pairs.map(([a, b]) => {
    const first = estimates.get(a)!;
    const second = estimates.get(b)!;
    const p = first && second ? winProbability(first.rating, second.rating) : 0.5;
    return (urgency(first) + urgency(second)) * p * (1 - p);
  });
}

function knownEstimate(stats: ModelPairingStats | undefined): Estimate | null {
  if (!stats || stats.rating === undefined || stats.ciLow === undefined || stats.ciHigh === undefined) return null;
  return { rating: stats.rating, width: Math.max(stats.ciHigh - stats.ciLow, MIN_WIDTH) };
}

function winProbability(rating: number, opponentRating: number): number {
  return 1 / (1 + 10 ** ((opponentRating - rating) / 400));
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
