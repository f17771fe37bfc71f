import { describe, expect, it } from 'vitest';
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

  it('starts afresh once closed: it takes openAfter new soft failures to open again', () => {
    const b = breaker();
    b.failure('soft');
    b.failure('soft');
    b.failure('hard');
    for (let i = 0; i < 3; i++) b.goodProbe();
    b.failure('soft');
    b.failure('soft');
    expect(b.state).toBe('closed');
  });
});
