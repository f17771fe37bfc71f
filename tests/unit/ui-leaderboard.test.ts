import { describe, expect, it } from 'vitest';
import {
  axisFraction,
  changedModels,
  formatClock,
  formatCounts,
  formatInterval,
  formatPercent,
  formatRating,
  heatColor,
  heatStrength,
  matchupTitle,
  niceStep,
  ratingAxis,
  supersedes,
  truncate,
  type LeaderboardRow,
} from '../../src/lib/client/leaderboard.js';
import type { Leaderboard } from '../../src/lib/shared/protocol.js';

function row(model: string, rating: number, extra: Partial<LeaderboardRow> = {}): LeaderboardRow {
  return { model, rank: 1, rating, ciLow: rating - 20, ciHigh: rating + 20, elo: rating, votes: 4, wins: 2, losses: 1, ties: 1, winRate: 0.625, ...extra };
}

function board(rows: LeaderboardRow[], extra: Partial<Leaderboard> = {}): Leaderboard {
  const models = rows.map((r) => r.model);
  return {
    rows,
    models,
    winRate: models.map((_, i) => models.map((_, j) => (i === j ? null : i < j ? 0.75 : 0.25))),
    battles: models.map((_, i) => models.map((_, j) => (i === j ? 0 : 4))),
    totalVotes: 10,
    countedVotes: 8,
    excludeTies: false,
    category: 'overall',
    categories: [{ id: 'overall', label: 'Overall', countedVotes: 8 }],
    computedAt: 1_000,
    ...extra,
  };
}

describe('formatting', () => {
  it('rounds ratings and uses a real minus sign', () => {
    expect(formatRating(1012.4)).toBe('1012');
    expect(formatRating(1012.5)).toBe('1013');
    expect(formatRating(-3.2)).toBe('\u22123');
  });

  it('shows the interval as offsets from the rating', () => {
    expect(formatInterval({ rating: 1000, ciLow: 985.2, ciHigh: 1012.4 })).toBe('+12 / \u221215');
    expect(formatInterval({ rating: 1000, ciLow: 1000, ciHigh: 1000 })).toBe('±0 / ±0');
    // A bootstrap interval need not contain the point estimate; the signs then say so.
    expect(formatInterval({ rating: 1000, ciLow: 1003, ciHigh: 1030 })).toBe('+30 / +3');
  });

  it('formats shares, clock times and counts', () => {
    expect(formatPercent(0.625)).toBe('63%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatClock(new Date(2025, 0, 2, 3, 4, 5).getTime())).toBe('03:04:05');
    expect(formatClock(new Date(2025, 0, 2, 23, 59, 0).getTime())).toBe('23:59:00');
    expect(formatCounts({ countedVotes: 1, totalVotes: 2 })).toBe('1 vote counted of 2');
    expect(formatCounts({ countedVotes: 7, totalVotes: 9 })).toBe('7 votes counted of 9');
  });

  it('truncates long model ids with an ellipsis', () => {
    expect(truncate('llama3.1:8b', 20)).toBe('llama3.1:8b');
    expect(truncate('llama3.1:70b-instruct-q4', 10)).toBe('llama3.1:…');
    expect(truncate('abcdef', 10)).toHaveLength(6);
  });

  it('titles a heat-map cell with the win rate and battle count', () => {
    const b = board([row('a', 1050), row('b', 950)]);
    expect(matchupTitle(b, 0, 1)).toBe('a won 75% of decisive battles against b (4 battles)');
    b.winRate[1][0] = null;
    b.battles[1][0] = 1;
    expect(matchupTitle(b, 1, 0)).toBe('b vs a: no decisive battles (1 battle)');
  });
});

describe('heat-map colour scale', () => {
  it('is neutral at 0.5 and diverges to either end', () => {
    expect(heatColor(0.5)).toBe('color-mix(in oklab, var(--heat-high) 0%, var(--heat-mid))');
    expect(heatColor(1)).toBe('color-mix(in oklab, var(--heat-high) 100%, var(--heat-mid))');
    expect(heatColor(0)).toBe('color-mix(in oklab, var(--heat-low) 100%, var(--heat-mid))');
    expect(heatColor(0.25)).toBe('color-mix(in oklab, var(--heat-low) 50%, var(--heat-mid))');
    expect(heatColor(null)).toBe('var(--heat-none)');
  });

  it('measures strength symmetrically', () => {
    expect(heatStrength(0.5)).toBe(0);
    expect(heatStrength(0.8)).toBeCloseTo(0.6);
    expect(heatStrength(0.2)).toBeCloseTo(0.6);
    expect(heatStrength(0)).toBe(1);
  });
});

describe('rating axis', () => {
  it('picks 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(7)).toBe(10);
    expect(niceStep(10)).toBe(10);
    expect(niceStep(11)).toBe(20);
    expect(niceStep(30)).toBe(50);
    expect(niceStep(0.3)).toBeCloseTo(0.5);
    expect(niceStep(180)).toBe(200);
  });

  it('covers every value and ends on ticks', () => {
    const axis = ratingAxis([912, 1088], 4);
    expect(axis).toEqual({ min: 900, max: 1100, ticks: [900, 950, 1000, 1050, 1100] });
    expect(axis.min).toBeLessThanOrEqual(912);
    expect(axis.max).toBeGreaterThanOrEqual(1088);
  });

  it('gives coinciding values a span around them', () => {
    const axis = ratingAxis([1000, 1000], 4, 20);
    expect(axis.min).toBeLessThan(1000);
    expect(axis.max).toBeGreaterThan(1000);
    expect(axis.ticks).toContain(1000);
  });

  it('maps values to fractions of the axis', () => {
    const axis = { min: 900, max: 1100, ticks: [] };
    expect(axisFraction(900, axis)).toBe(0);
    expect(axisFraction(1000, axis)).toBe(0.5);
    expect(axisFraction(1100, axis)).toBe(1);
  });
});

describe('live updates', () => {
  it('keeps the newest board for a setting, and takes any board for a new setting', () => {
    const current = board([row('a', 1000)], { computedAt: 2_000 });
    expect(supersedes(board([], { computedAt: 1_000 }), undefined)).toBe(true);
    expect(supersedes(board([], { computedAt: 1_000 }), current)).toBe(false);
    expect(supersedes(board([], { computedAt: 3_000 }), current)).toBe(true);
    expect(supersedes(board([], { computedAt: 1_000, excludeTies: true }), current)).toBe(true);
  });

  it('highlights models with new votes, but nothing on the first board or after a toggle', () => {
    const before = board([row('a', 1010), row('b', 990)]);
    const after = board([row('a', 1012), row('b', 985, { votes: 5 }), row('c', 1005)]);
    expect([...changedModels(before, after)].sort()).toEqual(['b', 'c']);
    expect(changedModels(undefined, after).size).toBe(0);
    expect(changedModels(before, { ...after, excludeTies: true }).size).toBe(0);
  });
});
