import { describe, expect, it } from 'vitest';
import { Ewma, waitingBeatsFallback, worthReplacing } from '../../server/models/admission.js';
import { DecayingRate, keepScore } from '../../server/models/eviction.js';

const MINUTE = 60_000;
const estimate = (over: Partial<Parameters<typeof waitingBeatsFallback>[0]> = {}) => ({
  loadMs: 1400,
  queueMs: 0,
  gpuTtftMs: 60,
  fallbackTtftMs: 200 as number | undefined,
  ...over,
});

describe('admission: wait for a GPU load, or serve from the fallback', () => {
  it('serves from the fallback when its first token comes before the load would be done', () => {
    expect(waitingBeatsFallback(estimate())).toBe(false);
  });

  it('waits for the load when the fallback is slower than load + first token', () => {
    expect(waitingBeatsFallback(estimate({ fallbackTtftMs: 3000 }))).toBe(true);
  });

  it('counts what is queued on the GPU ahead of the load', () => {
    expect(waitingBeatsFallback(estimate({ fallbackTtftMs: 3000, queueMs: 1600 }))).toBe(false);
  });

  it('counts the GPU first token too (a wake-up of 140 ms vs a CPU at 200 ms)', () => {
    expect(waitingBeatsFallback(estimate({ loadMs: 140, gpuTtftMs: 50 }))).toBe(true);
    expect(waitingBeatsFallback(estimate({ loadMs: 140, gpuTtftMs: 70 }))).toBe(false);
  });

  it('with the fallback not measured yet, serves from it (and learns how fast it is)', () => {
    expect(waitingBeatsFallback(estimate({ loadMs: 1, fallbackTtftMs: undefined }))).toBe(false);
  });
});

describe('hysteresis: a unit replaces a resident one only with a clear margin', () => {
  it('needs the margin, not just a higher score', () => {
    expect(worthReplacing(1.4, 1, 1.5)).toBe(false);
    expect(worthReplacing(1.6, 1, 1.5)).toBe(true);
  });

  it('a unit nobody asked for replaces nothing, even an unused one', () => {
    expect(worthReplacing(0, 0, 1.5)).toBe(false);
  });

  it('two units with alternating bursts of equal size never swap (fake clock)', () => {
    const a = new DecayingRate(10 * MINUTE);
    const b = new DecayingRate(10 * MINUTE);
    const score = (rate: DecayingRate, now: number) => keepScore({ ratePerMinute: rate.perMinute(now), reloadCostMs: 1400, sizeMb: 4578 });
    let swaps = 0;
    let resident: 'a' | 'b' = 'a';
    for (let minute = 0; minute < 60; minute++) {
      const now = minute * MINUTE;
      // a is busy in even minutes, b in odd ones: 10 requests each.
      const busy = minute % 2 === 0 ? a : b;
      for (let i = 0; i < 10; i++) busy.hit(now + i * 1000);
      const at = now + 15_000;
      const [mine, other] = resident === 'a' ? [a, b] : [b, a];
      if (worthReplacing(score(other, at), score(mine, at), 1.5)) {
        resident = resident === 'a' ? 'b' : 'a';
        swaps++;
      }
    }
    expect(swaps).toBe(0);
  });

  it('a lasting shift of usage does swap, once (fake clock)', () => {
    const a = new DecayingRate(10 * MINUTE);
    const b = new DecayingRate(10 * MINUTE);
    const score = (rate: DecayingRate, now: number) => keepScore({ ratePerMinute: rate.perMinute(now), reloadCostMs: 1400, sizeMb: 4578 });
    const swapsAt: number[] = [];
    let resident: 'a' | 'b' = 'a';
    for (let minute = 0; minute < 60; minute++) {
      const now = minute * MINUTE;
      const busy = minute < 20 ? a : b;
      for (let i = 0; i < 10; i++) busy.hit(now + i * 1000);
      const at = now + 15_000;
      const [mine, other] = resident === 'a' ? [a, b] : [b, a];
      if (worthReplacing(score(other, at), score(mine, at), 1.5)) {
        resident = resident === 'a' ? 'b' : 'a';
        swapsAt.push(minute);
      }
    }
    expect(swapsAt).toHaveLength(1);
    expect(swapsAt[0]).toBeGreaterThanOrEqual(20);
    // Within about one half-life of the shift plus the margin.
    expect(swapsAt[0]).toBeLessThanOrEqual(32);
  });
});

describe('Ewma', () => {
  it('is undefined until measured, then follows the samples', () => {
    const e = new Ewma(0.5);
    expect(e.get()).toBeUndefined();
    e.add(200);
    expect(e.get()).toBe(200);
    e.add(100);
    expect(e.get()).toBe(150);
  });
});
