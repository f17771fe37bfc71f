import { describe, expect, it } from 'vitest';
import { bootstrapRatings, percentileIntervals, rankUpperBound } from '../../server/rating/bootstrap.js';
import { computeLeaderboard } from '../../server/rating/leaderboard.js';
import { collapseVotes } from '../../server/rating/outcomes.js';
import { mulberry32 } from '../../server/random.js';
import { simulatedVotes } from './rating-helpers.js';

const TRUE_RATINGS = { a: 1250, b: 1120, c: 1020, d: 960, e: 880, f: 770 }; // mean 1000

describe('bootstrapRatings', () => {
  const table = collapseVotes(simulatedVotes(TRUE_RATINGS, 3000, mulberry32(11)));

  it('is deterministic for a seed and varies across seeds', () => {
    const once = bootstrapRatings(table, { rounds: 20, seed: 9 });
    expect(bootstrapRatings(table, { rounds: 20, seed: 9 })).toEqual(once);
    expect(bootstrapRatings(table, { rounds: 20, seed: 10 })).not.toEqual(once);
  });

  it('gives each model a spread that shrinks with more battles', () => {
    const spread = (battles: number) => {
      const sample = collapseVotes(simulatedVotes(TRUE_RATINGS, battles, mulberry32(2)));
      const { low, high } = percentileIntervals(bootstrapRatings(sample, { rounds: 100, seed: 1 }), 6);
      return high.map((upper, i) => upper - low[i]);
    };
    const small = spread(1000);
    const large = spread(16_000);
    // Sixteen times the votes, a quarter of the width (within bootstrap noise).
    small.forEach((width, i) => expect(large[i] / width).toBeGreaterThan(0.15));
    small.forEach((width, i) => expect(large[i] / width).toBeLessThan(0.4));
  });
});

describe('percentileIntervals', () => {
  it('interpolates the 2.5 and 97.5 percentiles linearly', () => {
    // Model 0 took 0, 1, ..., 100 across 101 rounds (shuffled): percentiles 2.5 and 97.5 exactly.
    const values = Array.from({ length: 101 }, (_, i) => (i * 37) % 101);
    const { low, high } = percentileIntervals(values.map((value) => Float64Array.of(value)), 1);
    expect(low[0]).toBeCloseTo(2.5, 12);
    expect(high[0]).toBeCloseTo(97.5, 12);
  });
});

describe('rankUpperBound', () => {
  it('counts only models whose lower bound clears this upper bound', () => {
    const intervals = {
      low: Float64Array.of(1100, 1080, 1000, 990, 800),
      high: Float64Array.of(1200, 1150, 1090, 1095, 985),
    };
    // b overlaps a; c and d are clearly below a (1100 > 1090, 1095) but overlap b; e is below all.
    expect(rankUpperBound(intervals)).toEqual([1, 1, 2, 2, 5]);
    // "Exceeds" is strict: touching intervals do not separate two models.
    expect(rankUpperBound({ low: Float64Array.of(1000, 900), high: Float64Array.of(1100, 1000) })).toEqual([1, 1]);
  });
});

describe('recovery of known strengths', () => {
  it('orders models correctly and puts the true gaps inside their bootstrap intervals', () => {
    const battles = simulatedVotes(TRUE_RATINGS, 6000, mulberry32(21));
    expect(computeLeaderboard(battles, { seed: 4 }).models).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const table = collapseVotes(battles);
    const rounds = bootstrapRatings(table, { rounds: 200, seed: 4 });
    const truth = table.models.map((model) => TRUE_RATINGS[model as keyof typeof TRUE_RATINGS]);
    const byStrength = table.models.map((_, i) => i).sort((i, j) => truth[j] - truth[i]);
    for (let k = 0; k + 1 < byStrength.length; k++) {
      const [stronger, weaker] = [byStrength[k], byStrength[k + 1]];
      const gaps = rounds.map((ratings) => Float64Array.of(ratings[stronger] - ratings[weaker]));
      const { low, high } = percentileIntervals(gaps, 1);
      expect(truth[stronger] - truth[weaker]).toBeGreaterThan(low[0]);
      expect(truth[stronger] - truth[weaker]).toBeLessThan(high[0]);
    }
  });

  it('covers the true ratings about 95% of the time across datasets', () => {
    let covered = 0;
    let checked = 0;
    for (let dataset = 0; dataset < 25; dataset++) {
      const board = computeLeaderboard(simulatedVotes(TRUE_RATINGS, 2000, mulberry32(100 + dataset)), { seed: dataset });
      for (const row of board.rows) {
        const truth = TRUE_RATINGS[row.model as keyof typeof TRUE_RATINGS];
        covered += Number(truth >= row.ciLow && truth <= row.ciHigh);
        checked += 1;
      }
    }
    // 150 checks at 95%: 2.7 standard errors below is 0.90. Intervals half as wide would give ~0.67.
    expect(covered / checked).toBeGreaterThan(0.9);
  });
});
