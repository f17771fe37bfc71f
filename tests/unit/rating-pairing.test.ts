import { describe, expect, it } from 'vitest';
import { computeLeaderboard } from '../../server/rating/leaderboard.js';
import {
  PAIRING_STRATEGIES,
  pairKey,
  pairingStatsFromLeaderboard,
  samplePair,
  type ModelPairingStats,
  type PairingStats,
  type PairingStrategy,
} from '../../server/rating/pairing.js';
import { mulberry32 } from '../../server/random.js';
import { simulatedVotes } from './rating-helpers.js';

const DRAWS = 20_000;

/** Share of draws in which each model appears, and how often each pair came up. */
function drawMany(strategy: PairingStrategy, models: string[], stats: PairingStats, seed = 1) {
  const rng = mulberry32(seed);
  const appearances = new Map<string, number>();
  const pairs = new Map<string, number>();
  let leftFirstAlphabetically = 0;
  for (let i = 0; i < DRAWS; i++) {
    const [left, right] = samplePair(strategy, models, stats, rng)!;
    for (const model of [left, right]) appearances.set(model, (appearances.get(model) ?? 0) + 1 / DRAWS);
    pairs.set(pairKey(left, right), (pairs.get(pairKey(left, right)) ?? 0) + 1 / DRAWS);
    if (left < right) leftFirstAlphabetically += 1 / DRAWS;
  }
  return { appearances, pairs, leftFirstAlphabetically };
}

function statsOf(entries: Record<string, ModelPairingStats>): PairingStats {
  return new Map(Object.entries(entries));
}

describe('pairKey', () => {
  it('is the same whichever side each model is on', () => {
    expect(pairKey('b', 'a')).toBe('a|b');
    expect(pairKey('a', 'b')).toBe('a|b');
  });
});

describe('samplePair: constraints', () => {
  const board = computeLeaderboard(simulatedVotes({ a: 1200, b: 1000, c: 900, d: 800, down: 1100 }, 500, mulberry32(3)));
  const stats = pairingStatsFromLeaderboard(board);
  const available = ['a', 'b', 'c', 'd', 'new'];
  const exclude = new Set([pairKey('a', 'b'), pairKey('c', 'new'), pairKey('b', 'd')]);

  it.each(PAIRING_STRATEGIES)('%s never returns an excluded pair, a duplicate or an unavailable model', (strategy) => {
    const rng = mulberry32(8);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const [left, right] = samplePair(strategy, available, stats, rng, exclude)!;
      expect(available).toContain(left);
      expect(available).toContain(right);
      expect(left).not.toBe(right);
      expect(exclude.has(pairKey(left, right))).toBe(false);
      seen.add(pairKey(left, right));
    }
    expect(seen.size).toBe(10 - exclude.size); // every allowed pair still happens
  });

  it.each(PAIRING_STRATEGIES)('%s returns null when no pair is possible', (strategy) => {
    const rng = mulberry32(1);
    expect(samplePair(strategy, [], stats, rng)).toBeNull();
    expect(samplePair(strategy, ['a', 'a'], stats, rng)).toBeNull();
    expect(samplePair(strategy, ['a', 'b'], stats, rng, new Set([pairKey('a', 'b')]))).toBeNull();
  });
});

describe('samplePair: preferences', () => {
  const models = ['a', 'b', 'c', 'd'];

  it('uniform: every pair and both sides equally likely', () => {
    const { pairs, leftFirstAlphabetically } = drawMany('uniform', models, new Map());
    expect(pairs.size).toBe(6);
    for (const share of pairs.values()) expect(share).toBeCloseTo(1 / 6, 1.5); // ±0.016, ~6 s.e.
    expect(leftFirstAlphabetically).toBeCloseTo(0.5, 1.5);
  });

  it('undersampled: favours the model with fewer votes, within the cap', () => {
    const stats = statsOf({ a: { votes: 100 }, b: { votes: 100 }, c: { votes: 100 } });
    const { appearances } = drawMany('undersampled', models, stats);
    // d (no votes) weighs 1/5 uncapped, capped at 10/105 against 1/105 for the others:
    // pairs with d weigh 10 units each, the three others 1 each, so d plays 30/33 of battles.
    expect(appearances.get('d')).toBeCloseTo(30 / 33, 1.5);
    const fifty = { votes: 50 };
    const evenVotes = drawMany('undersampled', models, statsOf({ a: fifty, b: fifty, c: fifty, d: fifty }));
    expect(evenVotes.appearances.get('d')).toBeCloseTo(0.5, 1.5);
  });

  it('uncertainty: favours the model with the widest interval', () => {
    const stats = statsOf({
      a: { votes: 300, rating: 1000, ciLow: 970, ciHigh: 1030 },
      b: { votes: 300, rating: 1000, ciLow: 970, ciHigh: 1030 },
      c: { votes: 300, rating: 1000, ciLow: 970, ciHigh: 1030 },
      d: { votes: 60, rating: 1000, ciLow: 910, ciHigh: 1090 },
    });
    const { appearances } = drawMany('uncertainty', models, stats);
    expect(appearances.get('d')).toBeGreaterThan(0.8);
    expect(appearances.get('a')).toBeLessThan(0.5);
  });

  it('uncertainty: among equally uncertain models, favours close matches', () => {
    const interval = (rating: number) => ({ votes: 200, rating, ciLow: rating - 40, ciHigh: rating + 40 });
    const stats = statsOf({ a: interval(1300), b: interval(1250), c: interval(800), d: interval(750) });
    const { pairs } = drawMany('uncertainty', models, stats);
    const close = (pairs.get('a|b') ?? 0) + (pairs.get('c|d') ?? 0);
    const distant = (pairs.get('a|d') ?? 0) + (pairs.get('b|c') ?? 0);
    // p(1 − p): 0.247 at a 50-point gap, 0.065 at 450 and 0.040 at 550.
    expect(close).toBeGreaterThan(0.65);
    expect(close).toBeGreaterThan(3 * distant);
    expect(distant).toBeGreaterThan(0); // distant links stay possible: the board needs them
  });

  it('uncertainty: a model without votes is as wanted as the least certain known one', () => {
    const stats = statsOf({
      a: { votes: 300, rating: 1000, ciLow: 970, ciHigh: 1030 },
      b: { votes: 600, rating: 1050, ciLow: 1030, ciHigh: 1070 },
      c: { votes: 600, rating: 950, ciLow: 930, ciHigh: 970 },
    });
    const { appearances } = drawMany('uncertainty', models, stats);
    expect(appearances.get('d')).toBeGreaterThan(0.6);
    expect(Math.abs(appearances.get('d')! - appearances.get('a')!)).toBeLessThan(0.03);
    expect(appearances.get('b')).toBeLessThan(0.45);
    expect(appearances.get('c')).toBeLessThan(0.45);
  });

  it('uncertainty: a very uncertain model still leaves room for other battles', () => {
    const settled = (rating: number) => ({ votes: 2000, rating, ciLow: rating - 10, ciHigh: rating + 10 });
    const unsure = { votes: 5, rating: 1000, ciLow: 700, ciHigh: 1300 };
    const stats = statsOf({ a: settled(1000), b: settled(1000), c: settled(1000), d: unsure });
    const { appearances } = drawMany('uncertainty', models, stats);
    // Uncapped, d would weigh ~10¹⁰ times the others and play every battle. With the floor, pairs
    // with d weigh 1.1 each and the others 0.2: d plays 3.3 / 3.9 ≈ 85% of battles.
    expect(appearances.get('d')).toBeGreaterThan(0.8);
    expect(appearances.get('d')).toBeLessThan(0.9);
  });

  it('uncertainty: with no statistics at all, behaves like uniform', () => {
    const { pairs } = drawMany('uncertainty', models, new Map());
    for (const share of pairs.values()) expect(share).toBeCloseTo(1 / 6, 1.5);
  });
});
