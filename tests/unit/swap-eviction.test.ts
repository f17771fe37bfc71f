import { describe, expect, it } from 'vitest';
import { chooseVictims, DecayingRate, keepScore, type EvictionCandidate } from '../../server/models/eviction.js';

const MINUTE = 60_000;
const unit = (key: string, over: Partial<EvictionCandidate> = {}): EvictionCandidate => ({
  key,
  sizeMb: 4000,
  ratePerMinute: 1,
  reloadCostMs: 2000,
  inFlight: 0,
  ...over,
});
const keys = (victims: EvictionCandidate[] | undefined) => victims?.map((v) => v.key);

describe('DecayingRate', () => {
  it('estimates a steady request rate', () => {
    const rate = new DecayingRate(10 * MINUTE);
    for (let t = 0; t <= 60 * MINUTE; t += MINUTE / 2) rate.hit(t);
    expect(rate.perMinute(60 * MINUTE)).toBeCloseTo(2, 0);
  });

  it('halves every half-life once requests stop', () => {
    const rate = new DecayingRate(10 * MINUTE);
    rate.hit(0);
    const at0 = rate.perMinute(0);
    expect(rate.perMinute(10 * MINUTE)).toBeCloseTo(at0 / 2, 6);
    expect(rate.perMinute(30 * MINUTE)).toBeCloseTo(at0 / 8, 6);
  });

  it('weighs recent requests over old ones', () => {
    const old = new DecayingRate(10 * MINUTE);
    const recent = new DecayingRate(10 * MINUTE);
    for (let i = 0; i < 5; i++) old.hit(i * 1000);
    for (let i = 0; i < 3; i++) recent.hit(40 * MINUTE + i * 1000);
    expect(recent.perMinute(41 * MINUTE)).toBeGreaterThan(old.perMinute(41 * MINUTE));
  });
});

describe('eviction by usage score (rate × reload cost ÷ memory)', () => {
  it('scores by each factor', () => {
    const base = keepScore(unit('x'));
    expect(keepScore(unit('x', { ratePerMinute: 2 }))).toBeCloseTo(base * 2);
    expect(keepScore(unit('x', { reloadCostMs: 4000 }))).toBeCloseTo(base * 2);
    expect(keepScore(unit('x', { sizeMb: 8000 }))).toBeCloseTo(base / 2);
  });

  it('evicts the least used first', () => {
    expect(keys(chooseVictims([unit('busy', { ratePerMinute: 5 }), unit('idle', { ratePerMinute: 0.5 })], 1000))).toEqual(['idle']);
  });

  it('at equal usage, evicts the one that is cheaper to bring back (a sleeping vLLM before a cold Ollama load)', () => {
    const candidates = [unit('cold', { reloadCostMs: 8000 }), unit('wake', { reloadCostMs: 300 })];
    expect(keys(chooseVictims(candidates, 1000))).toEqual(['wake']);
  });

  it('at equal usage and cost, evicts the one holding more memory per unit of value', () => {
    expect(keys(chooseVictims([unit('small', { sizeMb: 2000 }), unit('big', { sizeMb: 8000 })], 1000))).toEqual(['big']);
  });

  it('evicts as many as the room needs, lowest score first', () => {
    const candidates = [unit('a', { ratePerMinute: 3 }), unit('b', { ratePerMinute: 1 }), unit('c', { ratePerMinute: 2 })];
    expect(keys(chooseVictims(candidates, 6000))).toEqual(['b', 'c']);
  });

  it('never evicts a unit with a stream in flight, whatever its score', () => {
    const candidates = [unit('streaming', { ratePerMinute: 0, inFlight: 1 }), unit('idle', { ratePerMinute: 9 })];
    expect(keys(chooseVictims(candidates, 1000))).toEqual(['idle']);
    expect(chooseVictims([unit('streaming', { inFlight: 2 })], 1000)).toBeUndefined();
  });

  it('evicts nothing when the room is already there', () => {
    expect(chooseVictims([unit('a')], 0)).toEqual([]);
  });
});
