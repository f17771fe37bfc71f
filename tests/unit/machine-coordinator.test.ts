import { describe, expect, it } from 'vitest';
import { appendBatch, MachineCoordinator } from '../../server/cluster/machine-coordinator.js';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';

const delta = (seq: number): SeqEvent => ({ t: 'delta', side: 'left', turn: 0, text: `t${seq}`, seq }) as SeqEvent;

describe('MachineCoordinator (leases and logs of --workers without Redis)', () => {
  it('gives a lease to one worker until it lapses or is released', () => {
    let now = 1_000;
    const c = new MachineCoordinator(() => now);
    expect(c.handle({ op: 'acquire', battleId: 'b', instanceId: 'w1', leaseMs: 3_000 })).toBe(true);
    expect(c.handle({ op: 'acquire', battleId: 'b', instanceId: 'w2', leaseMs: 3_000 })).toBe(false);
    expect(c.handle({ op: 'acquire', battleId: 'b', instanceId: 'w1', leaseMs: 3_000 })).toBe(true);
    now += 3_001;
    expect(c.handle({ op: 'acquire', battleId: 'b', instanceId: 'w2', leaseMs: 3_000 })).toBe(true);
    // w1 renews after w2 took the battle: it hears that it lost it.
    expect(c.handle({ op: 'renew', instanceId: 'w1', leaseMs: 3_000, held: [{ id: 'b', streaming: true }] })).toEqual(['b']);
    c.handle({ op: 'release', battleId: 'b', instanceId: 'w1', handoff: false });
    expect(c.handle({ op: 'acquire', battleId: 'b', instanceId: 'w3', leaseMs: 3_000 })).toBe(false);
    c.handle({ op: 'release', battleId: 'b', instanceId: 'w2', handoff: false });
    expect(c.handle({ op: 'acquire', battleId: 'b', instanceId: 'w3', leaseMs: 3_000 })).toBe(true);
  });

  it("reports a dead owner's streaming battles as orphans once its lease lapses, and a hand-off at once", () => {
    let now = 1_000;
    const c = new MachineCoordinator(() => now);
    c.handle({ op: 'acquire', battleId: 'a', instanceId: 'w1', leaseMs: 3_000 });
    c.handle({ op: 'renew', instanceId: 'w1', leaseMs: 3_000, held: [{ id: 'a', streaming: true }] });
    expect(c.handle({ op: 'orphans' })).toEqual([]);
    now += 3_001;
    expect(c.handle({ op: 'orphans' })).toEqual(['a']);
    c.handle({ op: 'acquire', battleId: 'h', instanceId: 'w1', leaseMs: 3_000 });
    c.handle({ op: 'release', battleId: 'h', instanceId: 'w1', handoff: true });
    expect(c.handle({ op: 'orphans' })).toEqual(['a', 'h']);
    c.handle({ op: 'renew', instanceId: 'w2', leaseMs: 3_000, held: [{ id: 'a', streaming: false }] });
    expect(c.handle({ op: 'orphans' })).toEqual(['h']);
  });

  it('keeps each log in seq order without duplicates, reads after a seq, forgets idle logs', () => {
    let now = 1_000;
    const c = new MachineCoordinator(() => now);
    c.handle({ op: 'append', batches: [appendBatch('b', [delta(1), delta(2)]), appendBatch('x', [delta(5)])] });
    c.handle({ op: 'append', batches: [appendBatch('b', [delta(2), delta(3)])] });
    c.handle({ op: 'append', batches: [appendBatch('b', [delta(3)])] });
    c.handle({ op: 'append', batches: [appendBatch('b', [delta(4)])] });
    expect((c.handle({ op: 'read', battleId: 'b', afterSeq: 0 }) as SeqEvent[]).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect((c.handle({ op: 'read', battleId: 'b', afterSeq: 2 }) as SeqEvent[]).map((e) => e.seq)).toEqual([3, 4]);
    expect((c.handle({ op: 'read', battleId: 'b', afterSeq: 1 }) as SeqEvent[]).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(c.handle({ op: 'read', battleId: 'x', afterSeq: 5 })).toEqual([]);
    now += 11 * 60_000;
    c.sweep();
    expect(c.handle({ op: 'read', battleId: 'b', afterSeq: 0 })).toEqual([]);
  });
});
