/**
 * Exact binomial and multinomial sampling for the bootstrap, which resamples up to ~10⁶ battles
 * spread over a few thousand outcome cells per round: one O(1) binomial draw per cell instead of
 * one uniform per battle.
 *
 * Binomial: inversion when n·p < 10 (expected n·p + 1 steps), otherwise Hörmann's BTRS
 * ("transformed rejection with squeeze", 1993), exact with expected constant time.
 */

const INVERSION_LIMIT = 10;

export function sampleBinomial(n: number, p: number, rng: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  // Both algorithms assume p ≤ 1/2.
  if (p > 0.5) return n - sampleBinomial(n, 1 - p, rng);
  return n * p < INVERSION_LIMIT ? binomialByInversion(n, p, rng) : binomialByBtrs(n, p, rng);
}

/**
 * Draws counts for `probabilities` (summing to 1, up to rounding) into `out`, by sequential
 * conditional binomials: cell k gets Bin(n left, p_k / probability mass left).
 */
export function sampleMultinomial(
  n: number,
  probabilities: ArrayLike<number>,
  rng: () => number,
  out: Float64Array,
): void {
  const lastPositive = lastPositiveIndex(probabilities);
  let remaining = n;
  let massLeft = 1;
  for (let k = 0; k < probabilities.length; k++) {
    const p = probabilities[k];
    // The last possible cell takes the rest, so rounding in massLeft can never lose a draw.
    const draw = k === lastPositive ? remaining : sampleBinomial(remaining, p / massLeft, rng);
    out[k] = draw;
    remaining -= draw;
    massLeft -= p;
  }
}

function lastPositiveIndex(values: ArrayLike<number>): number {
  for (let k = values.length - 1; k >= 0; k--) if (values[k] > 0) return k;
  return -1;
}

function binomialByInversion(n: number, p: number, rng: () => number): number {
  const oddsRatio = p / (1 - p);
  const a = (n + 1) * oddsRatio;
  const probabilityOfZero = Math.pow(1 - p, n);
  for (;;) {
    let u = rng();
    let probability = probabilityOfZero;
    let x = 0;
    while (u > probability && x <= n) {
      u -= probability;
      x += 1;
      probability *= a / x - oddsRatio; // P(x) / P(x-1)
    }
    if (x <= n) return x; // else rounding walked off the support: draw again
  }
}

function binomialByBtrs(n: number, p: number, rng: () => number): number {
  const spread = Math.sqrt(n * p * (1 - p));
  const b = 1.15 + 2.53 * spread;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const acceptRegion = 0.92 - 4.2 / b;
  const oddsRatio = p / (1 - p);
  const alpha = (2.83 + 5.1 / b) * spread;
  const mode = Math.floor((n + 1) * p);
  const logModeTerm =
    (mode + 0.5) * Math.log((mode + 1) / (oddsRatio * (n - mode + 1))) +
    stirlingTail(mode) +
    stirlingTail(n - mode);
  for (;;) {
    const u = rng() - 0.5;
    const v = rng();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (k < 0 || k > n) continue;
    if (us >= 0.07 && v <= acceptRegion) return k; // squeeze: no logarithms needed
    const logV = Math.log((v * alpha) / (a / (us * us) + b));
    const logBound =
      logModeTerm +
      (n + 1) * Math.log((n - mode + 1) / (n - k + 1)) +
      (k + 0.5) * Math.log((oddsRatio * (n - k + 1)) / (k + 1)) -
      stirlingTail(k) -
      stirlingTail(n - k);
    if (logV <= logBound) return k;
  }
}

/** ln k! − [(k + ½)·ln(k + 1) − (k + 1) + ½·ln 2π]: exact below 10, series above. */
function stirlingTail(k: number): number {
  if (k < SMALL_STIRLING_TAILS.length) return SMALL_STIRLING_TAILS[k];
  const k1 = k + 1;
  const k1sq = k1 * k1;
  return (1 / 12 - (1 / 360 - 1 / 1260 / k1sq) / k1sq) / k1;
}

const SMALL_STIRLING_TAILS: readonly number[] = Array.from({ length: 10 }, (_, k) => {
  let logFactorial = 0;
  for (let i = 2; i <= k; i++) logFactorial += Math.log(i);
  return logFactorial - ((k + 0.5) * Math.log(k + 1) - (k + 1) + 0.5 * Math.log(2 * Math.PI));
});
