import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Breaker } from '../../server/models/breaker.js';

const breaker = () => new Breaker({ openAfter: 3, closeAfter: 3 });

describe('Breaker: opens fast, closes only after consecutive good probes', () => {
  it('opens at once on a hard failure (connection refused, 503)', () => {
    const b = breaker();
    b.failure('hard');
    expect(b.state).toBe('open');
  });

  it('opens after openAfter soft failures in a row; a success in between starts the count over', () => {
    const b = breaker();
    b.failure('soft');
    b.failure('soft');
    b.requestSucceeded();
    b.failure('soft');
    b.failure('soft');
    expect(b.state).toBe('closed');
    b.failure('soft');
    expect(b.state).toBe('open');
  });

  it('closes after closeAfter good probes in a row, reporting its progress', () => {
    const b = breaker();
    b.failure('hard');
    b.goodProbe();
    b.goodProbe();
    expect(b.state).toBe('open');
    expect(b.recovery).toEqual({ good: 2, needed: 3 });
    b.goodProbe();
    expect(b.state).toBe('closed');
  });

  it('does not flap: a bad probe or a failure while recovering starts the recovery over', () => {
    const b = breaker();
    b.failure('hard');
    const flaps: string[] = [];
    for (let i = 0; i < 5; i++) {
      b.goodProbe();
      b.goodProbe();
      flaps.push(b.state);
      if (i % 2 === 0) b.badProbe();
      else b.failure('soft');
      flaps.push(b.state);
    }
    expect(new Set(flaps)).toEqual(new Set(['open']));
  });

  it('is not closed by a request that happened to succeed while it was open', () => {
    const b = breaker();
    b.failure('hard');
    b.requestSucceeded();
    b.goodProbe();
    expect(b.state).toBe('open');
  });

  it('after closing it is on probation: the first failed request reopens it; a served one ends probation', () => {
    const b = breaker();
    b.failure('hard');
    for (let i = 0; i < 3; i++) b.goodProbe();
    expect(b.state).toBe('closed');
    b.failure('soft');
    expect(b.state).toBe('open');
    for (let i = 0; i < 3; i++) b.goodProbe();
    b.requestSucceeded();
    b.failure('soft');
    b.failure('soft');
    expect(b.state).toBe('closed');
    b.failure('soft');
    expect(b.state).toBe('open');
  });

  it('a good probe does not clear the failure streak: the GPU that passes /health but hangs on chat opens it', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) {
      expect(b.state).toBe('closed');
      b.failure('soft');
      b.goodProbe();
      b.goodProbe();
    }
    expect(b.state).toBe('open');
  });
});

describe('Breaker cool-down (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const cooling = () => new Breaker({ openAfter: 3, closeAfter: 2, coolDownMs: 10_000 });

  it('good probes close it only once the cool-down since the last failure has passed', () => {
    const b = cooling();
    b.failure('hard');
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(1_000);
      b.goodProbe();
    }
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(4_999);
    b.goodProbe();
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(1);
    b.goodProbe();
    expect(b.state).toBe('closed');
  });

  it('a failed probe on probation counts as before (openAfter, no doubling): only requests end probation early', () => {
    const b = cooling();
    b.failure('hard');
    vi.advanceTimersByTime(10_000);
    b.goodProbe();
    b.goodProbe();
    expect(b.state).toBe('closed');
    b.failure('soft', 'probe');
    expect(b.state).toBe('closed');
    b.failure('soft', 'probe');
    b.failure('soft', 'probe');
    expect(b.state).toBe('open');
    expect(b.coolDownMs).toBe(10_000);
  });

  it('a failure while open starts the cool-down over', () => {
    const b = cooling();
    b.failure('hard');
    vi.advanceTimersByTime(9_000);
    b.failure('soft');
    vi.advanceTimersByTime(9_000);
    b.goodProbe();
    b.goodProbe();
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(1_000);
    b.goodProbe();
    expect(b.state).toBe('closed');
  });

  it('reopening on probation doubles the cool-down (capped at 16x); a served request resets it', () => {
    const b = cooling();
    const reopenAndClose = () => {
      b.failure('soft');
      expect(b.state).toBe('open');
      vi.advanceTimersByTime(b.coolDownMs);
      b.goodProbe();
      b.goodProbe();
      expect(b.state).toBe('closed');
    };
    b.failure('hard');
    vi.advanceTimersByTime(10_000);
    b.goodProbe();
    b.goodProbe();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      reopenAndClose();
      seen.push(b.coolDownMs);
    }
    expect(seen).toEqual([20_000, 40_000, 80_000, 160_000, 160_000, 160_000]);
    b.requestSucceeded();
    expect(b.coolDownMs).toBe(10_000);
  });
});
