import { describe, expect, it } from 'vitest';
import { BattleEventLog, type CoalescePolicy } from '../../server/arena/event-log.js';
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

  it("a side's streaming status waits for its first delta: one frame for both", async () => {
    const { log, frames } = recordingLog();
    log.push({ t: 'status', side: 'left', turn: 0, status: 'streaming' });
    log.push({ t: 'delta', side: 'left', turn: 0, text: 'Hi' });
    log.push({ t: 'status', side: 'right', turn: 0, status: 'loading' }); // any other status: at once
    expect(frames).toEqual([
      [
        { t: 'status', side: 'left', turn: 0, status: 'streaming', seq: 1 },
        { t: 'delta', side: 'left', turn: 0, text: 'Hi', seq: 2 },
        { t: 'status', side: 'right', turn: 0, status: 'loading', seq: 3 },
      ],
    ]);
    log.push({ t: 'status', side: 'right', turn: 0, status: 'streaming' });
    log.push({ t: 'delta', side: 'right', turn: 0, text: 'Yo' });
    log.push({ t: 'delta', side: 'right', turn: 0, text: '!' });
    expect(frames).toHaveLength(1);
    await endOfTurn();
    expect(frames[1]).toEqual([
      { t: 'status', side: 'right', turn: 0, status: 'streaming', seq: 4 },
      { t: 'delta', side: 'right', turn: 0, text: 'Yo!', seq: 5 },
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

  describe('coalescing policies (arena.frames)', () => {
    const withPolicy = (policy: CoalescePolicy) => {
      const frames: SeqEvent[][] = [];
      const log = new BattleEventLog(0, (events) => frames.push(events.map((e) => ({ ...e }))), policy);
      return { log, frames };
    };

    it("'none' sends every delta as its own frame, at once", () => {
      const { log, frames } = withPolicy({ mode: 'none' });
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
      expect(frames.map((f) => f.map((e) => e.seq))).toEqual([[1], [2]]);
    });

    it('a window merges the deltas that arrive within it', async () => {
      const { log, frames } = withPolicy({ mode: 'window', windowMs: 5 });
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
      await endOfTurn();
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
      expect(frames).toEqual([]);
      await new Promise((r) => setTimeout(r, 20));
      expect(frames).toEqual([[{ t: 'delta', side: 'left', turn: 0, text: 'ab', seq: 1 }]]);
      log.dispose();
    });

    it('a delta after an early flush gets a whole window of its own', async () => {
      const { log, frames } = withPolicy({ mode: 'window', windowMs: 60 });
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' }); // window 1: 0–60 ms
      await new Promise((r) => setTimeout(r, 30));
      log.push({ t: 'end', side: 'left', turn: 0, status: 'done' }); // flushes at once, at 30 ms
      log.push({ t: 'delta', side: 'right', turn: 0, text: 'b' }); // window 2: 30–90 ms
      await new Promise((r) => setTimeout(r, 45));
      expect(frames).toHaveLength(1); // at 75 ms: window 1's timer must not have sent 'b'
      await new Promise((r) => setTimeout(r, 60));
      expect(frames).toHaveLength(2);
      log.dispose();
    });

    it("'task' merges what one macrotask pushed and sends it before the next one", async () => {
      const { log, frames } = withPolicy({ mode: 'task' });
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
      log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
      expect(frames).toEqual([]);
      await Promise.resolve();
      expect(frames).toEqual([[{ t: 'delta', side: 'left', turn: 0, text: 'ab', seq: 1 }]]);
      log.push({ t: 'delta', side: 'right', turn: 0, text: 'c' });
      log.dispose();
      await endOfTurn();
      expect(frames).toHaveLength(1);
    });

    it("'turn' with maxWaitMs flushes every waiting log once the oldest delta waited that long", async () => {
      const a = withPolicy({ mode: 'turn', maxWaitMs: 5 });
      const b = withPolicy({ mode: 'turn', maxWaitMs: 5 });
      a.log.push({ t: 'delta', side: 'left', turn: 0, text: 'a' });
      b.log.push({ t: 'delta', side: 'left', turn: 0, text: 'x' });
      const until = performance.now() + 6;
      while (performance.now() < until); // a long turn
      expect(a.frames).toEqual([]);
      b.log.push({ t: 'delta', side: 'left', turn: 0, text: 'y' });
      expect(a.frames).toEqual([[{ t: 'delta', side: 'left', turn: 0, text: 'a', seq: 1 }]]);
      expect(b.frames).toEqual([[{ t: 'delta', side: 'left', turn: 0, text: 'xy', seq: 1 }]]);
      a.log.push({ t: 'delta', side: 'left', turn: 0, text: 'b' });
      expect(a.frames).toHaveLength(1);
      await endOfTurn();
      expect(a.frames.at(-1)).toEqual([{ t: 'delta', side: 'left', turn: 0, text: 'b', seq: 2 }]);
    });
  });
});
