import { describe, expect, it } from 'vitest';
import { bandPoints, linePoints, toHistory } from '../../src/lib/client/history.js';

const row = (model: string, rating: number) => ({ model, rating, ciLow: rating - 10, ciHigh: rating + 20 });

describe('rating history', () => {
  const history = toHistory([
    { day: '2026-12-01', rows: [row('a', 1010), row('b', 990)] },
    { day: '2026-12-02', rows: [row('b', 1030), row('a', 1000), row('c', 950)] },
  ]);

  it('builds one series per model, ordered as the latest board, with the days each model was on it', () => {
    expect(history.days).toEqual(['2026-12-01', '2026-12-02']);
    expect(history.series.map((s) => s.model)).toEqual(['b', 'a', 'c']);
    expect(history.series[2].points).toEqual([{ day: 1, rating: 950, ciLow: 940, ciHigh: 970 }]);
  });

  it('draws the board on screen as its own day, replacing that day\'s stored snapshot', () => {
    const stored = [
      { day: '2026-12-01', rows: [row('a', 1010)] },
      { day: '2026-12-02', rows: [row('a', 1200)] },
    ];
    const withLive = toHistory(stored, { day: '2026-12-02', rows: [row('a', 1005), row('b', 995)] });
    expect(withLive.days).toEqual(['2026-12-01', '2026-12-02']);
    expect(withLive.series[0].points.map((p) => p.rating)).toEqual([1010, 1005]);
    expect(toHistory(stored, { day: '2026-12-03', rows: [row('a', 990)] }).days).toHaveLength(3);
    expect(toHistory(stored, { day: '2026-12-03', rows: [] }).days).toHaveLength(2);
  });

  it('draws the line through the ratings and the band along the upper bounds and back along the lower', () => {
    const x = (day: number) => 100 * day;
    const y = (rating: number) => 2000 - rating;
    const a = history.series[1];
    expect(linePoints(a, x, y)).toBe('0,990 100,1000');
    expect(bandPoints(a, x, y)).toBe('0,970 100,980 100,1010 0,1000');
  });
});
