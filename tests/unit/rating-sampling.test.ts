import { describe, expect, it } from 'vitest';
import { sampleBinomial, sampleMultinomial } from '../../server/rating/binomial.js';
import { mulberry32 } from '../../server/random.js';

function binomialPmf(n: number, p: number): number[] {
  const pmf = [Math.pow(1 - p, n)];
  for (let k = 1; k <= n; k++) pmf.push((pmf[k - 1] * (n - k + 1) * p) / (k * (1 - p)));
  return pmf;
}

/**
 * Pearson χ² of `draws` samples against Bin(n, p), over the outcomes expected at least 20 times.
 * Returns the statistic and its degrees of freedom (mean dof, standard deviation √(2·dof)).
 */
function chiSquareAgainstBinomial(n: number, p: number, draws: number): { statistic: number; dof: number } {
  const rng = mulberry32(7);
  const frequency = new Array<number>(n + 1).fill(0);
  for (let i = 0; i < draws; i++) frequency[sampleBinomial(n, p, rng)] += 1;
  let statistic = 0;
  let cells = 0;
  binomialPmf(n, p).forEach((probability, k) => {
    const expected = probability * draws;
    if (expected < 20) return;
    statistic += (frequency[k] - expected) ** 2 / expected;
    cells += 1;
  });
  return { statistic, dof: cells - 1 };
}

describe('createRng', () => {
  it('repeats for a seed, differs across seeds, stays in [0, 1)', () => {
    const first = Array.from({ length: 1000 }, mulberry32(42));
    expect(Array.from({ length: 1000 }, mulberry32(42))).toEqual(first);
    expect(Array.from({ length: 1000 }, mulberry32(43))).not.toEqual(first);
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(first.reduce((sum, value) => sum + value, 0) / 1000).toBeCloseTo(0.5, 1);
  });
});

describe('sampleBinomial', () => {
  it.each([
    ['inversion', 40, 0.1],
    ['BTRS near its n·p = 10 threshold', 30, 0.4],
    ['BTRS', 100, 0.4],
    ['BTRS, p > ½ by symmetry', 60, 0.8],
    ['BTRS, wide', 2000, 0.3],
  ])('%s: Bin(%i, %f) passes a χ² goodness-of-fit test', (_, n, p) => {
    const { statistic, dof } = chiSquareAgainstBinomial(n, p, 400_000);
    // Four standard deviations above the mean: a wrong acceptance bound overshoots by far more.
    expect(statistic).toBeLessThan(dof + 4 * Math.sqrt(2 * dof));
  });

  it('has the right mean and variance for large n', () => {
    const rng = mulberry32(3);
    const [n, p, draws] = [1_000_000, 0.002, 50_000];
    const samples = Array.from({ length: draws }, () => sampleBinomial(n, p, rng));
    const mean = samples.reduce((sum, value) => sum + value, 0) / draws;
    const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (draws - 1);
    expect(Math.abs(mean - n * p)).toBeLessThan(0.5); // standard error 0.2
    expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.96);
    expect(variance / (n * p * (1 - p))).toBeLessThan(1.04);
  });

  it('handles the edges', () => {
    const rng = mulberry32(1);
    expect(sampleBinomial(0, 0.3, rng)).toBe(0);
    expect(sampleBinomial(10, 0, rng)).toBe(0);
    expect(sampleBinomial(10, 1, rng)).toBe(10);
  });
});

describe('sampleMultinomial', () => {
  it('always totals n, never fills impossible cells, and averages n·p', () => {
    const rng = mulberry32(5);
    const probabilities = [0.5, 0, 0.3, 0.15, 0.05, 0];
    const out = new Float64Array(probabilities.length);
    const totals = new Float64Array(probabilities.length);
    const rounds = 2000;
    for (let round = 0; round < rounds; round++) {
      sampleMultinomial(10_000, probabilities, rng, out);
      expect(out.reduce((sum, value) => sum + value, 0)).toBe(10_000);
      expect(out[1]).toBe(0);
      expect(out[5]).toBe(0);
      out.forEach((value, cell) => (totals[cell] += value));
    }
    probabilities.forEach((p, cell) => expect(totals[cell] / rounds / 10_000).toBeCloseTo(p, 3));
  });
});
