import { describe, expect, it } from 'vitest';
import { computeElo } from '../../server/rating/elo.js';
import { computeLeaderboard, VoteTally } from '../../server/rating/leaderboard.js';
import { vote, votes } from './rating-helpers.js';

// a beats b 6–2 with 2 ties; b beats c 4–1 with 1 both-bad; a and c never met.
const BOARD = [
  ...votes(4, 'a', 'b', 'left'),
  ...votes(2, 'b', 'a', 'right'),
  ...votes(2, 'b', 'a', 'left'),
  ...votes(2, 'a', 'b', 'tie'),
  ...votes(4, 'b', 'c', 'left'),
  vote('c', 'b', 'left'),
  vote('b', 'c', 'bothbad'),
];

describe('computeLeaderboard', () => {
  const board = computeLeaderboard(BOARD, { bootstrapRounds: 50, seed: 1 });

  it('sorts rows by rating and lists models in the same order', () => {
    expect(board.models).toEqual(['a', 'b', 'c']);
    expect(board.rows.map((row) => row.model)).toEqual(board.models);
    const ratings = board.rows.map((row) => row.rating);
    expect([...ratings].sort((x, y) => y - x)).toEqual(ratings);
  });

  it('tallies wins, losses, ties and the half-tie win rate per model', () => {
    const [a, b, c] = board.rows;
    expect(a).toMatchObject({ votes: 10, wins: 6, losses: 2, ties: 2, winRate: 0.7 });
    expect(b).toMatchObject({ votes: 16, wins: 6, losses: 7, ties: 3, winRate: 7.5 / 16 });
    expect(c).toMatchObject({ votes: 6, wins: 1, losses: 4, ties: 1, winRate: 1.5 / 6 });
  });

  it('builds symmetric battle counts and decisive win shares', () => {
    expect(board.battles).toEqual([
      [0, 10, 0],
      [10, 0, 6],
      [0, 6, 0],
    ]);
    expect(board.winRate).toEqual([
      [null, 0.75, null],
      [0.25, null, 0.8],
      [null, 0.2, null],
    ]);
  });

  it('reports intervals around the rating, Rank (UB) and online Elo', () => {
    for (const row of board.rows) {
      expect(row.ciLow).toBeLessThanOrEqual(row.rating);
      expect(row.ciHigh).toBeGreaterThanOrEqual(row.rating);
      const clearlyAbove = board.rows.filter((other) => other.ciLow > row.ciHigh).length;
      expect(row.rank).toBe(1 + clearlyAbove);
    }
    const elo = computeElo(BOARD);
    board.rows.forEach((row) => expect(row.elo).toBe(elo.get(row.model)));
    expect(board.totalVotes).toBe(BOARD.length);
    expect(board.countedVotes).toBe(BOARD.length);
  });

  it('drops excluded votes and self-battles from every figure but totalVotes', () => {
    const noisy = [
      ...BOARD,
      vote('c', 'a', 'left', true),
      vote('c', 'a', 'left', true),
      vote('a', 'a', 'left'), // self-battle
      vote('z', 'a', 'left', true),
    ];
    const filtered = computeLeaderboard(noisy, { bootstrapRounds: 50, seed: 1 });
    expect(filtered.totalVotes).toBe(BOARD.length + 4);
    expect(filtered.countedVotes).toBe(BOARD.length);
    expect({ ...filtered, totalVotes: 0, computedAt: 0 }).toEqual({ ...board, totalVotes: 0, computedAt: 0 });
  });

  it('rates decisive votes only when ties are excluded', () => {
    const decisive = computeLeaderboard(BOARD, { bootstrapRounds: 50, seed: 1, excludeTies: true });
    expect(decisive.excludeTies).toBe(true);
    expect(decisive.countedVotes).toBe(BOARD.length - 3);
    expect(decisive.rows.every((row) => row.ties === 0)).toBe(true);
    expect(decisive.battles[0][1]).toBe(8);
    // Same decisive record, no ties to pull the ratings together: a wider spread.
    const spread = (rows: typeof board.rows) => rows[0].rating - rows[rows.length - 1].rating;
    expect(spread(decisive.rows)).toBeGreaterThan(spread(board.rows));
  });

  it('repeats exactly for the same seed, and collapses intervals without a bootstrap', () => {
    const again = computeLeaderboard(BOARD, { bootstrapRounds: 50, seed: 1 });
    expect(again.rows).toEqual(board.rows);
    const pointOnly = computeLeaderboard(BOARD, { bootstrapRounds: 0 });
    pointOnly.rows.forEach((row) => expect([row.ciLow, row.ciHigh]).toEqual([row.rating, row.rating]));
  });

  it('returns an empty board for no counted votes', () => {
    const empty = computeLeaderboard([vote('a', 'b', 'left', true)]);
    expect(empty).toMatchObject({ rows: [], models: [], winRate: [], battles: [], totalVotes: 1, countedVotes: 0 });
  });
});

describe('VoteTally', () => {
  it('gives the same board when votes are folded in a few at a time as when computed from all of them', () => {
    const all = [...BOARD, vote('a', 'c', 'tie'), vote('c', 'a', 'left', true), vote('c', 'c', 'left'), ...votes(3, 'c', 'a', 'right')];
    for (const excludeTies of [false, true]) {
      const tally = new VoteTally(excludeTies);
      for (let at = 0; at < all.length; at += 4) tally.add(all.slice(at, at + 4));
      const whole = computeLeaderboard(all, { excludeTies, bootstrapRounds: 50, seed: 0 });
      expect({ ...tally.board({ bootstrapRounds: 50 }), computedAt: 0 }).toEqual({ ...whole, computedAt: 0 });
    }
  });
});
