import { describe, expect, it } from 'vitest';
import { fitBradleyTerry, RIDGE, toRatings } from '../../server/rating/bradley-terry.js';
import { collapseVotes, type OutcomeCounts } from '../../server/rating/outcomes.js';
import { vote, votes } from './rating-helpers.js';

/** A small connected board with uneven pair counts, ties, and one lopsided pair. */
const FIXTURE = [
  ...votes(7, 'a', 'b', 'left'),
  ...votes(3, 'b', 'a', 'left'),
  ...votes(2, 'a', 'b', 'tie'),
  ...votes(5, 'b', 'c', 'left'),
  ...votes(4, 'c', 'b', 'left'),
  ...votes(1, 'c', 'b', 'bothbad'),
  ...votes(9, 'a', 'd', 'left'),
  ...votes(1, 'a', 'd', 'right'),
  ...votes(2, 'c', 'd', 'left'),
  ...votes(6, 'd', 'c', 'left'),
  ...votes(3, 'd', 'c', 'tie'),
  ...votes(4, 'e', 'a', 'left'),
  ...votes(4, 'e', 'a', 'right'),
  ...votes(2, 'e', 'c', 'left'),
];

/** Independent reference: plain gradient ascent on the same penalised log-likelihood. */
function referenceFit(table: OutcomeCounts): number[] {
  const size = table.models.length;
  const pairs = Array.from(table.first, (first, pair) => {
    const [wins, ties, losses] = table.counts.slice(pair * 3, pair * 3 + 3);
    return { first, second: table.second[pair], games: wins + ties + losses, score: wins + ties / 2 };
  });
  // 1 / (Lipschitz bound of the gradient): the Hessian's norm is at most 2·max_i Σ_j n_ij / 4 + λ.
  const degree = new Array<number>(size).fill(0);
  for (const pair of pairs) {
    degree[pair.first] += pair.games;
    degree[pair.second] += pair.games;
  }
  const stepSize = 1 / (Math.max(...degree) / 2 + RIDGE);
  const beta = new Array<number>(size).fill(0);
  for (let iteration = 0; iteration < 200_000; iteration++) {
    const gradient = beta.map((value) => -RIDGE * value);
    for (const { first, second, games, score } of pairs) {
      const residual = score - games / (1 + Math.exp(beta[second] - beta[first]));
      gradient[first] += residual;
      gradient[second] -= residual;
    }
    if (Math.max(...gradient.map(Math.abs)) < 1e-13) break;
    gradient.forEach((value, i) => (beta[i] += stepSize * value));
  }
  return beta;
}

/** Independent reference without the ridge: Zermelo / Hunter's MM iteration, mean-zero anchored. */
function zermeloFit(table: OutcomeCounts): number[] {
  const size = table.models.length;
  const score = new Array<number>(size).fill(0);
  for (let pair = 0; pair < table.first.length; pair++) {
    const [wins, ties, losses] = table.counts.slice(pair * 3, pair * 3 + 3);
    score[table.first[pair]] += wins + ties / 2;
    score[table.second[pair]] += losses + ties / 2;
  }
  let strength = new Array<number>(size).fill(1);
  for (let iteration = 0; iteration < 20_000; iteration++) {
    const denominator = new Array<number>(size).fill(0);
    for (let pair = 0; pair < table.first.length; pair++) {
      const [i, j] = [table.first[pair], table.second[pair]];
      const games = table.counts[pair * 3] + table.counts[pair * 3 + 1] + table.counts[pair * 3 + 2];
      denominator[i] += games / (strength[i] + strength[j]);
      denominator[j] += games / (strength[i] + strength[j]);
    }
    strength = strength.map((_, i) => score[i] / denominator[i]);
  }
  const logs = strength.map(Math.log);
  const mean = logs.reduce((sum, value) => sum + value, 0) / size;
  return logs.map((value) => value - mean);
}

describe('fitBradleyTerry', () => {
  const table = collapseVotes(FIXTURE);

  it('matches gradient ascent on the same objective to 1e-6 rating points', () => {
    const ratings = toRatings(fitBradleyTerry(table));
    const reference = toRatings(referenceFit(table));
    ratings.forEach((rating, i) => expect(Math.abs(rating - reference[i])).toBeLessThan(1e-6));
  });

  // On 60 votes the ridge moves ratings by about a point, against intervals of ±100 or more.
  it('stays within 1.5 points of the unregularised MLE', () => {
    const ratings = toRatings(fitBradleyTerry(table));
    const mle = toRatings(zermeloFit(table));
    ratings.forEach((rating, i) => expect(Math.abs(rating - mle[i])).toBeLessThan(1.5));
  });

  it('anchors the average model at 1000', () => {
    const ratings = toRatings(fitBradleyTerry(table));
    const mean = ratings.reduce((sum, value) => sum + value, 0) / ratings.length;
    expect(mean).toBeCloseTo(1000, 9);
  });

  it('counts a tie as half a win each way', () => {
    const withTies = collapseVotes([
      ...votes(3, 'x', 'y', 'left'),
      ...votes(2, 'x', 'y', 'tie'),
      vote('x', 'y', 'right'),
    ]);
    const decisive = collapseVotes([...votes(4, 'x', 'y', 'left'), ...votes(2, 'x', 'y', 'right')]);
    const [x1, y1] = toRatings(fitBradleyTerry(withTies));
    const [x2, y2] = toRatings(fitBradleyTerry(decisive));
    expect(x1).toBeCloseTo(x2, 9);
    expect(y1).toBeCloseTo(y2, 9);
    // Two to one in score: x − y ≈ 400·log10(2) ≈ 120.4 points, less a hair of ridge shrinkage.
    expect(x1 - y1).toBeGreaterThan(119);
    expect(x1 - y1).toBeLessThan(120.42);
  });

  it('ignores which side a model sat on', () => {
    const leftWins = collapseVotes([...votes(5, 'x', 'y', 'left'), ...votes(2, 'x', 'y', 'right')]);
    const mixedSides = collapseVotes([
      ...votes(3, 'x', 'y', 'left'),
      ...votes(2, 'y', 'x', 'right'),
      ...votes(2, 'y', 'x', 'left'),
    ]);
    expect(toRatings(fitBradleyTerry(mixedSides))[0]).toBeCloseTo(toRatings(fitBradleyTerry(leftWins))[0], 9);
  });

  it('keeps a model that never lost finite and on top', () => {
    const unbeaten = collapseVotes([
      ...votes(10, 'champ', 'a', 'left'),
      ...votes(5, 'a', 'b', 'left'),
      ...votes(5, 'b', 'a', 'left'),
    ]);
    const ratings = toRatings(fitBradleyTerry(unbeaten));
    expect(Number.isFinite(ratings[0])).toBe(true);
    expect(ratings[0]).toBeGreaterThan(ratings[1] + 400);
    expect(ratings[0]).toBeLessThan(3000);
  });

  it('rates a disconnected board, each part centred on 1000', () => {
    const split = collapseVotes([...votes(3, 'a', 'b', 'left'), vote('a', 'b', 'right'), ...votes(2, 'c', 'd', 'tie')]);
    const [a, b, c, d] = toRatings(fitBradleyTerry(split));
    expect(a + b).toBeCloseTo(2000, 9);
    expect(c).toBeCloseTo(1000, 9);
    expect(d).toBeCloseTo(1000, 9);
  });

  it('converges from a start where plain Newton would overshoot and diverge', () => {
    const even = collapseVotes([...votes(20, 'x', 'y', 'left'), ...votes(20, 'y', 'x', 'left')]);
    const [x, y] = fitBradleyTerry(even, { initial: Float64Array.of(1.5, -1.5) });
    expect(x).toBeCloseTo(0, 9);
    expect(y).toBeCloseTo(0, 9);
  });

  it('fits resampled counts from a warm start to the same optimum', () => {
    const resampled = Float64Array.from(table.counts, (count, cell) => count + (cell % 4));
    const cold = fitBradleyTerry(table, { counts: resampled });
    const warm = fitBradleyTerry(table, { counts: resampled, initial: fitBradleyTerry(table) });
    cold.forEach((value, i) => expect(warm[i]).toBeCloseTo(value, 10));
  });
});

describe('collapseVotes', () => {
  it('canonicalises pairs and counts each outcome once per cell', () => {
    const table = collapseVotes([
      vote('a', 'b', 'left'),
      vote('b', 'a', 'left'),
      vote('b', 'a', 'bothbad'),
      vote('c', 'a', 'right'),
    ]);
    expect(table.models).toEqual(['a', 'b', 'c']);
    expect(Array.from(table.first)).toEqual([0, 0]);
    expect(Array.from(table.second)).toEqual([1, 2]);
    // a–b: a won once, one tie, b won once; a–c: a won once.
    expect(Array.from(table.counts)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(table.battles).toBe(4);
  });
});
