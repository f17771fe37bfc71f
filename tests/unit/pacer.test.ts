import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MatchedPacer } from '../../server/arena/pacer.js';
import type { BattleEvent, Side } from '../../src/lib/shared/protocol.js';

/** The matched pacer's rule (pacer.ts), on a fake clock. */

describe('MatchedPacer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = () => {
    const out: BattleEvent[] = [];
    const idle = vi.fn();
    const pacer = new MatchedPacer(0, (e) => out.push(e), idle, { now: () => Date.now() });
    const delta = (side: Side, text = 'x') => pacer.push({ t: 'delta', side, turn: 0, text });
    const end = (side: Side, status: 'done' | 'stopped' | 'error' = 'done') => pacer.push({ t: 'end', side, turn: 0, status });
    const shown = (side: Side) => out.filter((e) => e.t === 'delta' && e.side === side).length;
    const ended = (side: Side) => out.some((e) => e.t === 'end' && e.side === side);
    return { pacer, out, idle, delta, end, shown, ended };
  };

  it('shows no text, not even the streaming status, before the other side has produced some', () => {
    const p = setup();
    p.pacer.push({ t: 'status', side: 'left', turn: 0, status: 'streaming' });
    p.delta('left');
    p.delta('left');
    expect(p.out).toEqual([]);
    p.delta('right');
    expect(p.out.map((e) => e.t)).toEqual(['status', 'delta', 'delta']);
    expect([p.shown('left'), p.shown('right')]).toEqual([1, 1]);
  });

  it('while both stream, both show the same count: the slower side’s', () => {
    const p = setup();
    for (let i = 0; i < 10; i++) p.delta('left');
    for (let i = 0; i < 4; i++) p.delta('right');
    expect([p.shown('left'), p.shown('right')]).toEqual([4, 4]);
  });

  it('a faster side’s end waits for its buffer, released in step with the slower side', () => {
    const p = setup();
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(100);
      p.delta('left');
    }
    p.end('left'); // 5 chunks in 500 ms
    p.delta('right');
    p.delta('right');
    expect(p.ended('left')).toBe(false);
    for (let i = 0; i < 3; i++) p.delta('right');
    expect(p.ended('left')).toBe(true);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(1_000); // the slower side goes on at its own (slower) pace
      p.delta('right');
    }
    expect(p.shown('right')).toBe(10);
  });

  it('after the slower side ends, the other continues at its average pace, then goes idle', () => {
    const p = setup();
    for (let i = 0; i < 10; i++) p.delta('left');
    vi.advanceTimersByTime(1_000);
    for (let i = 0; i < 4; i++) p.delta('right');
    p.end('right'); // 4 chunks in 1 s: 4 per second from now on
    p.end('left');
    expect(p.shown('left')).toBe(4);
    vi.advanceTimersByTime(500);
    expect(p.shown('left')).toBe(6);
    vi.advanceTimersByTime(999);
    expect(p.shown('left')).toBe(9);
    expect(p.idle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(p.shown('left')).toBe(10);
    expect(p.ended('left')).toBe(true);
    expect(p.idle).toHaveBeenCalledTimes(1);
  });

  it('a side that failed without any text paces nothing; a stopped side drops what it held', () => {
    const p = setup();
    for (let i = 0; i < 3; i++) p.delta('left');
    p.end('right', 'error');
    expect(p.shown('left')).toBe(3);

    const q = setup();
    for (let i = 0; i < 6; i++) q.delta('left');
    q.delta('right');
    q.end('left', 'stopped');
    expect(q.shown('left')).toBe(1);
    expect(q.ended('left')).toBe(true);
  });
});
