import { describe, expect, it } from 'vitest';
import { BattleEventLog } from '../../server/arena/event-log.js';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';

function recordingLog(startSeq = 0) {
  const frames: SeqEvent[][] = [];
  const log = new BattleEventLog(startSeq, (events) => frames.push(events.map((e) => ({ ...e }))));
  return { log, frames };
}

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BattleEventLog', () => {
  it('merges the deltas of one event-loop turn per side, in order, and sends them at its end', async () => {
    const { log, frames } = recordingLog();
    log.push({ t: 'delta', side: 'left', turn: 0, text: 'Hel' });
    log.push({ t: 'delta', side: 'right', turn: 0, text: 'Bon' });
    log.push({ t: 'delta', side: 'left', turn: 0, text: 'lo' });
    log.push({ t: 'delta', side: 'right', turn: 0, text: 'jour', reasoning: 'fr' });
    expect(frames).toEqual([]);
    await endOfTurn();
    expect(frames).toEqual([
      [
        { t: 'delta', side: 'left', turn: 0, text: 'Hello', seq: 1 },
        { t: 'delta', side: 'right', turn: 0, text: 'Bonjour', reasoning: 'fr', seq: 2 },
      ],
    ]);
  });

  it('sends any other event at once, after the deltas that came before it', () => {
    const { log, frames } = recordingLog(10);
    log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
    log.push({ t: 'end', side: 'left', turn: 0, status: 'done' });
    expect(frames).toEqual([
      [
        { t: 'delta', side: 'left', turn: 0, text: 'a', seq: 11 },
        { t: 'end', side: 'left', turn: 0, status: 'done', seq: 12 },
      ],
    ]);
  });

  it('bounds a batch: a long run of text in one turn goes out without waiting', () => {
    const { log, frames } = recordingLog();
    for (let i = 0; i < 100; i++) log.push({ t: 'delta', side: 'left', turn: 0, text: 'x'.repeat(50) });
    expect(frames.length).toBe(1);
    expect(frames[0][0].t === 'delta' && frames[0][0].text?.length).toBeGreaterThanOrEqual(4096);
  });

  it('one flush serves every log that has deltas waiting', async () => {
    const a = recordingLog();
    const b = recordingLog();
    a.log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
    b.log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
    await endOfTurn();
    expect([a.frames.length, b.frames.length]).toEqual([1, 1]);
  });

  it('replays events after a seq, and asks for a full view once they are forgotten', async () => {
    const { log } = recordingLog();
    log.push({ t: 'turn', turn: 0, prompt: 'p' });
    log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
    await endOfTurn();
    expect(log.after(0)?.map((e) => e.seq)).toEqual([1, 2]);
    expect(log.after(1)?.map((e) => e.seq)).toEqual([2]);
    expect(log.after(2)).toEqual([]);
    log.forget();
    expect(log.after(0)).toBeNull();
    expect(log.after(2)).toEqual([]);
    log.push({ t: 'turn', turn: 1, prompt: 'q' });
    expect(log.after(2)?.map((e) => e.seq)).toEqual([3]);
    expect(log.after(1)).toBeNull();
  });

  it('a disposed log sends nothing more', async () => {
    const { log, frames } = recordingLog();
    log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
    log.dispose();
    await endOfTurn();
    expect(frames).toEqual([]);
  });

  describe('coalescing policies for the bench (BattleEventLog.coalesce)', () => {
    const withPolicy = async (policy: typeof BattleEventLog.coalesce, body: () => Promise<void>) => {
      BattleEventLog.coalesce = policy;
      try {
        await body();
      } finally {
        BattleEventLog.coalesce = 'turn';
      }
    };

    it("'none' sends every delta as its own frame, at once", () =>
      withPolicy('none', async () => {
        const { log, frames } = recordingLog();
        log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
        log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
        expect(frames.map((f) => f.map((e) => e.seq))).toEqual([[1], [2]]);
      }));

    it('a window merges the deltas that arrive within it', () =>
      withPolicy({ windowMs: 5 }, async () => {
        const { log, frames } = recordingLog();
        log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
        await endOfTurn();
        log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
        expect(frames).toEqual([]);
        await new Promise((r) => setTimeout(r, 20));
        expect(frames).toEqual([[{ t: 'delta', side: 'left', turn: 0, text: 'ab', seq: 1 }]]);
        log.dispose();
      }));
  });
});
