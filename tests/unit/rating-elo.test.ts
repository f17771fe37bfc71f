import { describe, expect, it } from 'vitest';
import { computeElo } from '../../server/rating/elo.js';
import { vote } from './rating-helpers.js';

describe('computeElo', () => {
  it('moves two fresh models by K/2 on a decisive vote', () => {
    const elo = computeElo([vote('a', 'b', 'left')]);
    expect(elo.get('a')).toBeCloseTo(1002, 10);
    expect(elo.get('b')).toBeCloseTo(998, 10);
  });

  it('updates in vote order with the expected score of the current ratings', () => {
    // After 1002 vs 998, b wins: expected(a) = 1 / (1 + 10^(-4/400)) = 0.50575620841...
    const elo = computeElo([vote('a', 'b', 'left'), vote('b', 'a', 'left'), vote('a', 'c', 'tie')]);
    expect(elo.get('b')).toBeCloseTo(1000.0230248336446, 9);
    // Then a (999.97697...) ties fresh c (1000): the underdog gains what c loses.
    expect(elo.get('a')).toBeCloseTo(999.977107707952, 9);
    expect(elo.get('c')).toBeCloseTo(999.9998674584034, 9);
  });

  it('scores ties and both-bad as half a win each', () => {
    const elo = computeElo([vote('a', 'b', 'tie'), vote('a', 'b', 'bothbad')]);
    expect(elo.get('a')).toBe(1000);
    expect(elo.get('b')).toBe(1000);
    const afterWin = computeElo([vote('a', 'b', 'left'), vote('a', 'b', 'bothbad')]);
    // The favourite drawing against the underdog loses a little: 1002 + 4 (0.5 − 0.50576).
    expect(afterWin.get('a')).toBeCloseTo(1002 + 4 * (0.5 - 0.5057562084111449), 9);
  });

  it('is order-dependent, as online Elo is', () => {
    const forward = computeElo([vote('a', 'b', 'left'), vote('b', 'a', 'left')]);
    const backward = computeElo([vote('b', 'a', 'left'), vote('a', 'b', 'left')]);
    expect(forward.get('a')).toBeLessThan(1000);
    expect(backward.get('a')).toBeGreaterThan(1000);
  });
});
