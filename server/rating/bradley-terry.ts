import { FIRST_SCORE, OUTCOMES_PER_PAIR, type OutcomeCounts } from './outcomes.js';
import { choleskySolveInPlace } from './cholesky.js';

/**
 * Bradley-Terry by maximum likelihood: P(i beats j) = σ(β_i − β_j), ties scoring half a win each
 * way (FastChat's weighted logistic model). The fit reads only per-pair totals, so its cost depends
 * on the number of models, never on the number of battles.
 *
 * Solver: Newton's method with a backtracking line search. The negative Hessian is the weighted
 * Laplacian of the comparison graph plus a small ridge λ·I; the ridge
 *  - keeps estimates finite for a model that never lost (or never won), whose MLE is ±∞;
 *  - makes the solution unique: the likelihood is shift-invariant and the ridge picks the shift
 *    with Σβ = 0, i.e. the average model rates 1000 (FastChat leaves it at its zero start, the same
 *    anchor, unless a named baseline model is pinned);
 *  - equals a N(0, 10²) prior on β (σ ≈ 1700 rating points): negligible once a model has votes.
 */

export const RIDGE = 0.01;
const RATING_SCALE = 400 / Math.LN10;
const INITIAL_RATING = 1000;
const MAX_ITERATIONS = 100;
const STEP_TOLERANCE = 1e-10;
const ARMIJO_FRACTION = 1e-4;
/**
 * Newton steps this small are taken whole: the iteration is then in its quadratic-convergence
 * region, where objective differences fall below floating-point rounding and a line search
 * would stall.
 */
const TRUSTED_STEP = 1e-4;
const MAX_STEP_HALVINGS = 40;

export interface FitOptions {
  /** Per-cell counts to fit instead of `table.counts` (bootstrap resamples). */
  counts?: Float64Array;
  /** Starting β (warm start); zeros by default. */
  initial?: Float64Array;
}

/** β per model (natural-log odds units), in `table.models` order, mean 0. */
export function fitBradleyTerry(table: OutcomeCounts, options: FitOptions = {}): Float64Array {
  const problem = toPairTotals(table, options.counts ?? table.counts);
  const size = table.models.length;
  const beta = options.initial ? Float64Array.from(options.initial) : new Float64Array(size);
  const gradient = new Float64Array(size);
  const step = new Float64Array(size);
  const information = new Float64Array(size * size);
  const trial = new Float64Array(size);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    fillGradientAndInformation(problem, beta, gradient, information);
    step.set(gradient);
    choleskySolveInPlace(information, step, size);
    const stepSize = maxAbs(step) < TRUSTED_STEP ? 1 : backtrack(problem, beta, gradient, step, trial);
    for (let i = 0; i < size; i++) beta[i] += stepSize * step[i];
    if (stepSize * maxAbs(step) < STEP_TOLERANCE) break;
  }
  return beta;
}

/** Elo-scale ratings: 1000 + 400·β / ln 10. */
export function toRatings(beta: ArrayLike<number>): Float64Array {
  return Float64Array.from(beta, (value) => INITIAL_RATING + RATING_SCALE * value);
}

interface PairTotals {
  first: Int32Array;
  second: Int32Array;
  games: Float64Array;
  /** First model's score: wins + ties / 2. */
  score: Float64Array;
}

function toPairTotals(table: OutcomeCounts, counts: Float64Array): PairTotals {
  const pairs = table.first.length;
  const games = new Float64Array(pairs);
  const score = new Float64Array(pairs);
  for (let pair = 0; pair < pairs; pair++) {
    for (let outcome = 0; outcome < OUTCOMES_PER_PAIR; outcome++) {
      const count = counts[pair * OUTCOMES_PER_PAIR + outcome];
      games[pair] += count;
      score[pair] += count * FIRST_SCORE[outcome];
    }
  }
  return { first: table.first, second: table.second, games, score };
}

/** Log-likelihood minus the ridge penalty: the function Newton maximises. */
function objective(problem: PairTotals, beta: Float64Array): number {
  let total = 0;
  for (let pair = 0; pair < problem.games.length; pair++) {
    const games = problem.games[pair];
    if (games === 0) continue;
    const margin = beta[problem.first[pair]] - beta[problem.second[pair]];
    const score = problem.score[pair];
    total += score * logSigmoid(margin) + (games - score) * logSigmoid(-margin);
  }
  return total - 0.5 * RIDGE * dot(beta, beta, beta.length);
}

/** Gradient of the objective, and its negative Hessian (the Fisher information plus λ·I). */
function fillGradientAndInformation(
  problem: PairTotals,
  beta: Float64Array,
  gradient: Float64Array,
  information: Float64Array,
): void {
  const size = beta.length;
  information.fill(0);
  for (let i = 0; i < size; i++) {
    gradient[i] = -RIDGE * beta[i];
    information[i * size + i] = RIDGE;
  }
  for (let pair = 0; pair < problem.games.length; pair++) {
    const games = problem.games[pair];
    if (games === 0) continue;
    const i = problem.first[pair];
    const j = problem.second[pair];
    const p = sigmoid(beta[i] - beta[j]);
    const residual = problem.score[pair] - games * p;
    const weight = games * p * (1 - p);
    gradient[i] += residual;
    gradient[j] -= residual;
    information[i * size + i] += weight;
    information[j * size + j] += weight;
    information[i * size + j] -= weight;
    information[j * size + i] -= weight;
  }
}

/** Largest t = 2⁻ᵏ whose step raises the objective by at least a fraction of the linear estimate. */
function backtrack(
  problem: PairTotals,
  beta: Float64Array,
  gradient: Float64Array,
  step: Float64Array,
  trial: Float64Array,
): number {
  const start = objective(problem, beta);
  const slope = dot(gradient, step, beta.length);
  let stepSize = 1;
  for (let halving = 0; halving < MAX_STEP_HALVINGS; halving++) {
    for (let i = 0; i < beta.length; i++) trial[i] = beta[i] + stepSize * step[i];
    if (objective(problem, trial) >= start + ARMIJO_FRACTION * stepSize * slope) return stepSize;
    stepSize /= 2;
  }
  return 0;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += a[i] * b[i];
  return sum;
}

function maxAbs(values: Float64Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}
