import { describe, expect, it } from 'vitest';
import { applyEvents as applyToRecord, toView } from '../../server/arena/record.js';
import type { BattleRecord } from '../../server/store/types.js';
import { applyEvents } from '../../src/lib/shared/battle-reducer.js';
import type { BattleEvent, BattleMode, BattleView } from '../../src/lib/shared/protocol.js';
import { emptyView, reveal, seq, streamed, streamedTurn } from '../helpers/battle-events.js';

/**
 * The one reducer ($shared/battle-reducer), as its two holders use it: a client's view, fed
 * frames by seq (`applyEvents`), and the server's stored record, written in place (`applyEvents` of server/arena/record.ts).
 * The rules run against both; what only one holder does (seq order, copy-on-write, the stored
 * vote) is tested on that holder.
 */

function emptyRecord(mode: BattleMode = 'arena'): BattleRecord {
  return {
    id: 'b1',
    sessionHash: 'judge',
    createdAt: 0,
    mode,
    models: { left: 'm1', right: mode === 'tools' ? '' : 'm2' },
    systemPrompt: '',
    turns: [],
    leak: { left: false, right: false },
    watchToken: 'w',
  };
}

const call = (id: string, expression: string, turn = 0): BattleEvent => ({ t: 'tool-call', side: 'left', turn, id, name: 'calculator', arguments: { expression } });

/** What the events change, whoever holds the battle. */
type Reduced = Pick<BattleView, 'turns' | 'leak'>;

const holders: Record<string, (events: BattleEvent[], mode?: BattleMode) => Reduced> = {
  'a client view': (events, mode) => applyEvents(emptyView(mode), seq(0, ...events)).view,
  'the server record': (events, mode) => {
    const record = emptyRecord(mode);
    applyToRecord(record, events);
    // The record's own fields (start time, timings, deployment) are not the reducer's business.
    return { leak: record.leak, turns: record.turns.map(({ startedAt: _, ...turn }) => turn) };
  },
};

describe.each(Object.entries(holders))('the rules, on %s', (_name, reduce) => {
  it('adds a turn with both answers pending', () => {
    expect(reduce([{ t: 'turn', turn: 0, prompt: 'hi' }]).turns).toEqual([
      { prompt: 'hi', answers: { left: { text: '', reasoning: '', status: 'pending' }, right: { text: '', reasoning: '', status: 'pending' } } },
    ]);
  });

  it('appends text and reasoning; a delta means streaming even without a status event (status promotion)', () => {
    const { turns } = reduce(streamed);
    expect(turns[0].answers.left).toEqual({ text: 'Hello', reasoning: 'think', status: 'streaming' });
    expect(turns[0].answers.right).toEqual({ text: 'Yo', reasoning: '', status: 'streaming' });
    // A resumed run sends no `streaming` status: its first delta promotes a loading answer.
    const resumed = reduce([{ t: 'turn', turn: 0, prompt: 'hi' }, { t: 'status', side: 'left', turn: 0, status: 'loading' }, { t: 'delta', side: 'left', turn: 0, text: 'x' }]);
    expect(resumed.turns[0].answers.left.status).toBe('streaming');
  });

  it('ends answers with done, stopped, interrupted and error (with its message)', () => {
    const { turns } = reduce([
      ...streamed,
      { t: 'end', side: 'left', turn: 0, status: 'stopped' },
      { t: 'end', side: 'right', turn: 0, status: 'error', error: 'backend down' },
    ]);
    expect(turns[0].answers.left.status).toBe('stopped');
    expect(turns[0].answers.right).toMatchObject({ status: 'error', error: 'backend down' });
    expect(reduce([...streamed, { t: 'end', side: 'left', turn: 0, status: 'interrupted' }]).turns[0].answers.left.status).toBe('interrupted');
  });

  it('does not let a late delta or tool call reopen a settled answer', () => {
    const { turns } = reduce([...streamed, { t: 'end', side: 'left', turn: 0, status: 'stopped' }, { t: 'delta', side: 'left', turn: 0, text: '!' }, call('c1', '1')]);
    expect(turns[0].answers.left).toMatchObject({ text: 'Hello!', status: 'stopped' });
  });

  it('marks a resumed answer without changing its status', () => {
    expect(reduce([...streamed, { t: 'status', side: 'right', turn: 0, status: 'resumed' }]).turns[0].answers.right).toMatchObject({ resumed: true, status: 'streaming' });
  });

  it('records a leak', () => {
    expect(reduce([...streamed, { t: 'leak', side: 'right' }]).leak).toEqual({ left: false, right: true });
  });

  it('adds follow-up turns after the first', () => {
    const { turns } = reduce([...streamed, { t: 'turn', turn: 1, prompt: 'more' }, { t: 'delta', side: 'left', turn: 1, text: 'x' }]);
    expect(turns.map((t) => t.prompt)).toEqual(['hi', 'more']);
    expect(turns[0].answers.left.text).toBe('Hello');
    expect(turns[1].answers.left.text).toBe('x');
  });

  it('regenerate: a turn started again replaces it and drops any later turn (turn truncation)', () => {
    expect(reduce([...streamed, { t: 'turn', turn: 0, prompt: 'hi' }]).turns).toEqual(reduce([{ t: 'turn', turn: 0, prompt: 'hi' }]).turns);
    const { turns } = reduce([...streamed, { t: 'turn', turn: 1, prompt: 'more' }, { t: 'turn', turn: 0, prompt: 'again' }]);
    expect(turns.map((t) => t.prompt)).toEqual(['again']);
  });

  it('ignores events for a turn it never saw', () => {
    const { turns } = reduce([...streamed, { t: 'delta', side: 'left', turn: 3, text: '?' }, { t: 'end', side: 'left', turn: 3, status: 'done' }, { t: 'thinking', turn: 3, active: true }]);
    expect(turns).toHaveLength(1);
    expect(turns[0].answers.left.text).toBe('Hello');
  });

  it('tool calls: appended in order, a call means the model is at work, results fill the call with that id', () => {
    const { turns } = reduce(
      [
        { t: 'turn', turn: 0, prompt: 'What is 17 * 23 + 4?' },
        call('c1', '17 * 23 + 4'),
        call('c2', '1 / 0'),
        { t: 'tool-result', side: 'left', turn: 0, id: 'c2', ok: false, error: 'division by zero', ms: 2 },
        { t: 'tool-result', side: 'left', turn: 0, id: 'c1', ok: true, result: { result: 395 }, ms: 1 },
        { t: 'tool-result', side: 'left', turn: 0, id: 'nope', ok: true, result: 4, ms: 1 },
      ],
      'tools',
    );
    expect(turns[0].answers.left.tools).toEqual([
      { id: 'c1', name: 'calculator', arguments: { expression: '17 * 23 + 4' }, ok: true, result: { result: 395 }, ms: 1 },
      { id: 'c2', name: 'calculator', arguments: { expression: '1 / 0' }, ok: false, error: 'division by zero', ms: 2 },
    ]);
    expect(turns[0].answers.left.status).toBe('streaming');
    expect(turns[0].answers.right).toEqual({ text: '', reasoning: '', status: 'pending' });
  });

  it('drops the calls of a regenerated turn', () => {
    const { turns } = reduce([{ t: 'turn', turn: 0, prompt: 'q' }, call('c1', '2 + 2'), { t: 'turn', turn: 0, prompt: 'q' }], 'tools');
    expect(turns[0].answers.left.tools).toBeUndefined();
  });

  it('blind reasoning: a thinking event marks the turn; the vote fills each side\'s reasoning from the reveal and ends the thinking', () => {
    const start: BattleEvent[] = [{ t: 'turn', turn: 0, prompt: 'hi' }, { t: 'thinking', turn: 0, active: true }];
    expect(reduce(start).turns[0].thinking).toBe(true);
    const done: BattleEvent[] = [
      ...start,
      { t: 'thinking', turn: 0, active: false },
      { t: 'delta', side: 'right', turn: 0, text: 'Answer' },
      { t: 'thinking', turn: 0, active: true },
      { t: 'end', side: 'left', turn: 0, status: 'done' },
      { t: 'end', side: 'right', turn: 0, status: 'done' },
    ];
    expect(reduce(done).turns[0].answers.right.reasoning).toBe('');
    const voted = reduce([...done, { t: 'vote', choice: 'tie', reveal: { ...reveal, right: { ...reveal.right, reasoning: ['let me think'] } } }]);
    expect(voted.turns[0].answers.right.reasoning).toBe('let me think');
    expect(voted.turns[0].answers.left.reasoning).toBe('');
    expect(voted.turns[0].thinking).toBe(false);
  });
});

describe('a client view (applyEvents): the vote, seq order and copy-on-write', () => {
  it('keeps the vote with its reveal and tournament', () => {
    const tournament = { id: 't1', round: 1, rounds: 3, done: false };
    const view = applyEvents(streamedTurn(), seq(7, { t: 'vote', choice: 'tie', reveal, tournament })).view;
    expect(view).toMatchObject({ vote: 'tie', reveal, tournament, seq: 8 });
  });

  it('skips duplicates, including ones inside the same frame', () => {
    const base = streamedTurn();
    const again = seq(5, { t: 'delta', side: 'left', turn: 0, text: 'lo' }, { t: 'delta', side: 'right', turn: 0, text: 'Yo' });
    expect(applyEvents(base, again).view).toBe(base);

    const [next] = seq(7, { t: 'delta', side: 'left', turn: 0, text: '!' });
    const view = applyEvents(base, [next, next]).view;
    expect(view.turns[0].answers.left.text).toBe('Hello!');
    expect(view.seq).toBe(8);
  });

  it('skips repeated tool events by seq, within a frame and across frames', () => {
    const tools = applyEvents(emptyView('tools'), seq(0, { t: 'turn', turn: 0, prompt: 'q' })).view;
    const events = seq(1, call('c1', '2 + 2'), { t: 'tool-result', side: 'left', turn: 0, id: 'c1', ok: true, result: 4, ms: 3 });
    const once = applyEvents(tools, [...events, ...events]).view;
    expect(once.turns[0].answers.left.tools).toEqual([{ id: 'c1', name: 'calculator', arguments: { expression: '2 + 2' }, ok: true, result: 4, ms: 3 }]);
    expect(once.seq).toBe(3);
    expect(applyEvents(once, events).view).toBe(once);
  });

  it('applies out-of-order events within a frame in seq order', () => {
    const events = seq(7, { t: 'delta', side: 'left', turn: 0, text: 'A' }, { t: 'delta', side: 'left', turn: 0, text: 'B' });
    expect(applyEvents(streamedTurn(), events.reverse()).view.turns[0].answers.left.text).toBe('HelloAB');
  });

  it('stops at a gap, says which seq is missing, and replays cleanly from that seq', () => {
    const events = seq(7, { t: 'delta', side: 'left', turn: 0, text: 'A' }, { t: 'delta', side: 'left', turn: 0, text: 'B' }, { t: 'delta', side: 'left', turn: 0, text: 'C' });
    const { view, missingSeq } = applyEvents(streamedTurn(), [events[0], events[2]]);
    expect(missingSeq).toBe(9);
    expect(view.seq).toBe(8);
    expect(view.turns[0].answers.left.text).toBe('HelloA');

    // `battle:resume` after seq 8 returns the rest; the repeated C is skipped.
    const resumed = applyEvents(applyEvents(view, events.slice(1)).view, [events[2]]);
    expect(resumed.missingSeq).toBeUndefined();
    expect(resumed.view.turns[0].answers.left.text).toBe('HelloABC');
  });

  it('reports a gap at the very first event', () => {
    const { view, missingSeq } = applyEvents(streamedTurn(), seq(8, { t: 'leak', side: 'left' }));
    expect(missingSeq).toBe(8);
    expect(view.leak.left).toBe(false);
  });

  it('a view replayed from any seq ends where the whole log ends', () => {
    const log = seq(0, ...streamed, { t: 'end', side: 'left', turn: 0, status: 'done' }, { t: 'end', side: 'right', turn: 0, status: 'done' }, { t: 'vote', choice: 'left', reveal });
    const whole = applyEvents(emptyView(), log).view;
    for (let at = 0; at <= log.length; at++) {
      const partial = applyEvents(emptyView(), log.slice(0, at)).view;
      expect(applyEvents(partial, log.slice(at)).view).toEqual(whole);
    }
  });

  it('never mutates the view, the turns or the calls it was given', () => {
    const base = applyEvents(streamedTurn(), seq(7, { t: 'turn', turn: 1, prompt: 'tools' }, call('c1', '2 + 2', 1))).view;
    const snapshot = structuredClone(base);
    applyEvents(
      base,
      seq(
        9,
        { t: 'delta', side: 'left', turn: 0, text: 'X' },
        { t: 'end', side: 'right', turn: 0, status: 'done' },
        { t: 'leak', side: 'left' },
        { t: 'tool-result', side: 'left', turn: 1, id: 'c1', ok: true, result: 4, ms: 1 },
        { t: 'vote', choice: 'left', reveal: { ...reveal, left: { ...reveal.left, reasoning: ['r'] } } },
        { t: 'turn', turn: 1, prompt: 'again' },
      ),
    );
    expect(base).toEqual(snapshot);
  });

  it('keeps untouched turns and answers by reference', () => {
    const base = applyEvents(streamedTurn(), seq(7, { t: 'turn', turn: 1, prompt: 'more' })).view;
    const view = applyEvents(base, seq(8, { t: 'delta', side: 'right', turn: 1, text: 'z' })).view;
    expect(view.turns[0]).toBe(base.turns[0]);
    expect(view.turns[1]).not.toBe(base.turns[1]);
    expect(view.turns[1].answers.left).toBe(base.turns[1].answers.left);
  });

  it('handles a long stream in linear time', () => {
    const deltas = Array.from({ length: 50_000 }, () => ({ t: 'delta', side: 'left', turn: 0, text: 'tok ' }) as const);
    let view = streamedTurn();
    const started = performance.now();
    for (let i = 0; i < deltas.length; i += 10) view = applyEvents(view, seq(view.seq, ...deltas.slice(i, i + 10))).view;
    expect(view.turns[0].answers.left.text.length).toBe(5 + 4 * 50_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('the server record (applyEvents in place)', () => {
  it('keeps the first vote, and its view matches the view a client built from the same events', () => {
    const events: BattleEvent[] = [
      ...streamed,
      { t: 'status', side: 'right', turn: 0, status: 'resumed' },
      { t: 'end', side: 'left', turn: 0, status: 'done' },
      { t: 'end', side: 'right', turn: 0, status: 'interrupted', error: 'cut' },
      { t: 'leak', side: 'left' },
      { t: 'turn', turn: 1, prompt: 'more' },
      { t: 'delta', side: 'left', turn: 1, text: 'a' },
      { t: 'delta', side: 'right', turn: 1, text: 'b' },
      { t: 'end', side: 'left', turn: 1, status: 'done' },
      { t: 'end', side: 'right', turn: 1, status: 'stopped' },
      { t: 'vote', choice: 'left', reveal },
    ];
    const record = emptyRecord();
    applyToRecord(record, events);
    applyToRecord(record, [{ t: 'vote', choice: 'right', reveal }]);
    expect(record.vote?.choice).toBe('left');
    expect(toView(record, events.length, reveal, false)).toEqual(applyEvents(emptyView(), seq(0, ...events)).view);
  });
});
