import { styleVector, type ConvMetadata } from '../classify/style.js';
import { RIDGE } from './bradley-terry.js';
import { choleskySolveInPlace } from './cholesky.js';

/**
 * Style control: the contextual Bradley-Terry model of FastChat (elo_analysis.py,
 * fit_contextual_bt): P(a beats b) = σ(β_a − β_b + γ·z), where z holds the battle's style features
 * as FastChat normalises them: per feature (a − b) / (a + b + 1), then standardised over all
 * battles (mean 0, population standard deviation 1). The ratings β are what the models score with
 * style held equal; γ says how much each feature sways votes.
 *
 * Unlike the plain fit, the features are per battle, so rows cannot collapse into per-pair cells:
 * the tally keeps one compact row per counted vote (25 bytes), added as votes arrive, and the fit
 * costs O(votes) per Newton step. Intervals are therefore Wald intervals from the Fisher
 * information (one factorisation), not a 100-round bootstrap over every vote.
 */

export const STYLE_FEATURES = ['tokens', 'headers', 'lists', 'bold'] as const;
const K = STYLE_FEATURES.length;
const MAX_ITERATIONS = 50;
const STEP_TOLERANCE = 1e-9;
const Z_95 = 1.959963984540054;

/** Per-vote rows: model indices (left, right), left's score, normalised feature differences. */
export class StyleRows {
  length = 0;
  left = new Int32Array(64);
  right = new Int32Array(64);
  /** 1 left won, 0.5 tie, 0 right won. */
  score = new Float32Array(64);
  /** K per row, (a − b) / (a + b + 1). */
  ratio = new Float32Array(64 * K);

  add(left: number, right: number, score: number, meta: ConvMetadata): void {
    if (this.length === this.left.length) this.grow();
    const n = this.length++;
    this.left[n] = left;
    this.right[n] = right;
    this.score[n] = score;
    const a = styleVector(meta, 'a');
    const b = styleVector(meta, 'b');
    for (let f = 0; f < K; f++) this.ratio[n * K + f] = (a[f] - b[f]) / (a[f] + b[f] + 1);
  }

  private grow(): void {
    const size = this.left.length * 2;
    const resize = <T extends Int32Array | Float32Array>(old: T, make: (n: number) => T, n: number): T => {
      const next = make(n);
      next.set(old);
      return next;
    };
    this.left = resize(this.left, (n) => new Int32Array(n), size);
    this.right = resize(this.right, (n) => new Int32Array(n), size);
    this.score = resize(this.score, (n) => new Float32Array(n), size);
    this.ratio = resize(this.ratio, (n) => new Float32Array(n), size * K);
  }
}

export interface StyleFit {
  /** β per model index (natural-log odds units). */
  beta: Float64Array;
  /** γ per feature, on the standardised features. */
  coefficients: Float64Array;
  /** Standard error of β_i − mean(β), per model. */
  standardErrors: Float64Array;
}

/** Standardised features (n × K): FastChat's (x − mean) / std; a constant feature becomes 0. */
export function standardise(rows: StyleRows): Float64Array {
  const n = rows.length;
  const z = new Float64Array(n * K);
  for (let f = 0; f < K; f++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += rows.ratio[i * K + f];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (rows.ratio[i * K + f] - mean) ** 2;
    const std = Math.sqrt(variance / n);
    for (let i = 0; i < n; i++) z[i * K + f] = std > 1e-12 ? (rows.ratio[i * K + f] - mean) / std : 0;
  }
  return z;
}

/**
 * Maximum likelihood with the plain fit's ridge λ on every parameter (FastChat uses a larger
 * λ = 0.5 on base-10 ratings; Arena keeps the raw and style-controlled boards on one prior).
 * Newton's method; the objective is concave, so full steps with halving on a rise suffice.
 */
export function fitStyleControl(rows: StyleRows, models: number): StyleFit {
  const size = models + K;
  const z = standardise(rows);
  // Always from zero, never warm-started from an earlier fit: every instance then shows the same
  // board bit for bit, whatever refreshes it went through.
  const theta = new Float64Array(size);
  const gradient = new Float64Array(size);
  const information = new Float64Array(size * size);
  const trial = new Float64Array(size);
  let current = objective(rows, z, theta, models);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    fillGradientAndInformation(rows, z, theta, models, gradient, information);
    const step = Float64Array.from(gradient);
    choleskySolveInPlace(information, step, size);
    let stepSize = 1;
    let next = current;
    for (let halving = 0; halving < 40; halving++) {
      for (let i = 0; i < size; i++) trial[i] = theta[i] + stepSize * step[i];
      next = objective(rows, z, trial, models);
      if (next >= current - 1e-12 * Math.abs(current)) break;
      stepSize /= 2;
    }
    theta.set(trial);
    current = next;
    if (stepSize * maxAbs(step) < STEP_TOLERANCE) break;
  }
  fillGradientAndInformation(rows, z, theta, models, gradient, information);
  return { beta: theta.slice(0, models), coefficients: theta.slice(models), standardErrors: centredErrors(information, models, size) };
}

/** 95% Wald interval on the Elo scale, from β and its standard error. */
export function waldInterval(beta: number, standardError: number): { low: number; high: number } {
  const scale = 400 / Math.LN10;
  return { low: 1000 + scale * (beta - Z_95 * standardError), high: 1000 + scale * (beta + Z_95 * standardError) };
}

/** Log-likelihood minus the ridge penalty. */
export function objective(rows: StyleRows, z: Float64Array, theta: Float64Array, models: number): number {
  let total = 0;
  for (let n = 0; n < rows.length; n++) {
    const margin = marginOf(rows, z, theta, models, n);
    const y = rows.score[n];
    total += y * logSigmoid(margin) + (1 - y) * logSigmoid(-margin);
  }
  let penalty = 0;
  for (const value of theta) penalty += value * value;
  return total - 0.5 * RIDGE * penalty;
}

function marginOf(rows: StyleRows, z: Float64Array, theta: Float64Array, models: number, n: number): number {
  let margin = theta[rows.left[n]] - theta[rows.right[n]];
  for (let f = 0; f < K; f++) margin += theta[models + f] * z[n * K + f];
  return margin;
}

function fillGradientAndInformation(
  rows: StyleRows,
  z: Float64Array,
  theta: Float64Array,
  models: number,
  gradient: Float64Array,
  information: Float64Array,
): void {
  const size = models + K;
  information.fill(0);
  for (let i = 0; i < size; i++) {
    gradient[i] = -RIDGE * theta[i];
    information[i * size + i] = RIDGE;
  }
  // Each row's design vector x has +1 at left, −1 at right and z at the feature slots.
  const index = new Int32Array(2 + K);
  const value = new Float64Array(2 + K);
  for (let f = 0; f < K; f++) index[2 + f] = models + f;
  for (let n = 0; n < rows.length; n++) {
    const p = sigmoid(marginOf(rows, z, theta, models, n));
    const residual = rows.score[n] - p;
    const weight = p * (1 - p);
    index[0] = rows.left[n];
    index[1] = rows.right[n];
    value[0] = 1;
    value[1] = -1;
    for (let f = 0; f < K; f++) value[2 + f] = z[n * K + f];
    for (let a = 0; a < 2 + K; a++) {
      gradient[index[a]] += residual * value[a];
      const wa = weight * value[a];
      for (let b = 0; b < 2 + K; b++) information[index[a] * size + index[b]] += wa * value[b];
    }
  }
}

/**
 * Standard errors of β_i − mean(β) from the inverse information. The likelihood does not move when
 * every β shifts together, so only the ridge pins that direction; centring removes it.
 */
function centredErrors(information: Float64Array, models: number, size: number): Float64Array {
  const errors = new Float64Array(models);
  const scratch = new Float64Array(size * size);
  for (let i = 0; i < models; i++) {
    const direction = new Float64Array(size);
    for (let j = 0; j < models; j++) direction[j] = (j === i ? 1 : 0) - 1 / models;
    const solution = Float64Array.from(direction);
    scratch.set(information);
    choleskySolveInPlace(scratch, solution, size);
    let variance = 0;
    for (let j = 0; j < size; j++) variance += direction[j] * solution[j];
    errors[i] = Math.sqrt(Math.max(variance, 0));
  }
  return errors;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

function maxAbs(values: Float64Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

const SCORE_OF = { left: 1, tie: 0.5, bothbad: 0.5, right: 0 } as const;

export interface StyleRating {
  rating: number;
  ciLow: number;
  ciHigh: number;
}

export interface StyleSummary {
  /** Counted votes that carried style features (the others are left out of this fit only). */
  votes: number;
  /** γ per feature: log-odds shift per standard deviation of the normalised difference. */
  coefficients: Record<(typeof STYLE_FEATURES)[number], number>;
}

/** Style-control rows folded in as votes arrive, fitted on demand. */
export class StyleTally {
  private readonly modelIndex = new Map<string, number>();
  private readonly rows = new StyleRows();

  add(vote: { modelLeft: string; modelRight: string; choice: keyof typeof SCORE_OF; style?: ConvMetadata }): void {
    if (!vote.style) return;
    this.rows.add(this.indexOf(vote.modelLeft), this.indexOf(vote.modelRight), SCORE_OF[vote.choice], vote.style);
  }

  /** Ratings per model (Elo scale, mean 1000) and the fit's summary; undefined without rows. */
  fit(): { ratings: Map<string, StyleRating>; summary: StyleSummary } | undefined {
    if (this.rows.length === 0) return undefined;
    const models = [...this.modelIndex.keys()];
    const result = fitStyleControl(this.rows, models.length);
    const ratings = new Map<string, StyleRating>();
    models.forEach((model, i) => {
      const { low, high } = waldInterval(result.beta[i], result.standardErrors[i]);
      ratings.set(model, { rating: 1000 + (400 / Math.LN10) * result.beta[i], ciLow: low, ciHigh: high });
    });
    const coefficients = Object.fromEntries(STYLE_FEATURES.map((name, f) => [name, result.coefficients[f]])) as StyleSummary['coefficients'];
    return { ratings, summary: { votes: this.rows.length, coefficients } };
  }

  private indexOf(model: string): number {
    let index = this.modelIndex.get(model);
    if (index === undefined) {
      index = this.modelIndex.size;
      this.modelIndex.set(model, index);
    }
    return index;
  }
}
