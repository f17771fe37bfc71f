import { describe, expect, it } from 'vitest';
import { applyEvents, canVote, isRunning, latestTurn } from '../../src/lib/client/battle-state.js';
import type { BattleEvent, BattleView, Reveal, SeqEvent } from '../../src/lib/shared/protocol.js';
import { choiceAllowed, failedSides, uncountedReason } from '../../src/lib/shared/vote-rules.js';

function emptyView(): BattleView {
  return { id: 'b1', mode: 'arena', turns: [], leak: { left: false, right: false }, seq: 0 };
}

/** Numbers events consecutively starting after `after`. */
function seq(after: number, ...events: BattleEvent[]): SeqEvent[] {
  return events.map((e, i) => ({ ...e, seq: after + i + 1 }));
}

const reveal: Reveal = {
  left: { model: 'm1', label: 'Model One', deployment: 'sim/m1', demo: true, ttftMs: 120 },
  right: { model: 'm2', label: 'Model Two', deployment: 'sim/m2', demo: true },
};

function streamedTurn(): BattleView {
  return applyEvents(
    emptyView(),
    seq(
      0,
      { t: 'turn', turn: 0, prompt: 'hi' },
      { t: 'status', side: 'left', turn: 0, status: 'loading' },
      { t: 'status', side: 'left', turn: 0, status: 'streaming' },
      { t: 'delta', side: 'left', turn: 0, reasoning: 'think' },
      { t: 'delta', side: 'left', turn: 0, text: 'Hel' },
      { t: 'delta', side: 'right', turn: 0, text: 'Yo' },
      { t: 'delta', side: 'left', turn: 0, text: 'lo' },
    ),
  ).view;
}

describe('applyEvents', () => {
  it('adds a turn with both answers pending', () => {
    const { view, missingSeq } = applyEvents(emptyView(), seq(0, { t: 'turn', turn: 0, prompt: 'hi' }));
    expect(missingSeq).toBeUndefined();
    expect(view.seq).toBe(1);
    expect(view.turns).toEqual([
      {
        prompt: 'hi',
        answers: {
          left: { text: '', reasoning: '', status: 'pending' },
          right: { text: '', reasoning: '', status: 'pending' },
        },
      },
    ]);
  });

  it('appends text and reasoning and tracks status', () => {
    const view = streamedTurn();
    expect(view.seq).toBe(7);
    expect(view.turns[0].answers.left).toEqual({ text: 'Hello', reasoning: 'think', status: 'streaming' });
    // A delta implies streaming even when no status event was sent.
    expect(view.turns[0].answers.right).toEqual({ text: 'Yo', reasoning: '', status: 'streaming' });
  });

  it('ends answers with done, stopped and error', () => {
    const view = applyEvents(
      streamedTurn(),
      seq(
        7,
        { t: 'end', side: 'left', turn: 0, status: 'stopped' },
        { t: 'end', side: 'right', turn: 0, status: 'error', error: 'backend down' },
      ),
    ).view;
    expect(view.turns[0].answers.left.status).toBe('stopped');
    expect(view.turns[0].answers.right).toMatchObject({ status: 'error', error: 'backend down' });
  });

  it('does not let a late delta reopen a settled answer', () => {
    const view = applyEvents(
      streamedTurn(),
      seq(
        7,
        { t: 'end', side: 'left', turn: 0, status: 'stopped' },
        { t: 'delta', side: 'left', turn: 0, text: '!' },
      ),
    ).view;
    expect(view.turns[0].answers.left).toMatchObject({ text: 'Hello!', status: 'stopped' });
  });

  it('marks a resumed answer without changing its status', () => {
    const view = applyEvents(streamedTurn(), seq(7, { t: 'status', side: 'right', turn: 0, status: 'resumed' })).view;
    expect(view.turns[0].answers.right).toMatchObject({ resumed: true, status: 'streaming' });
  });

  it('records leaks and the vote with reveal and tournament', () => {
    const tournament = { id: 't1', round: 1, rounds: 3, done: false };
    const view = applyEvents(
      streamedTurn(),
      seq(7, { t: 'leak', side: 'right' }, { t: 'vote', choice: 'tie', reveal, tournament }),
    ).view;
    expect(view.leak).toEqual({ left: false, right: true });
    expect(view.vote).toBe('tie');
    expect(view.reveal).toEqual(reveal);
    expect(view.tournament).toEqual(tournament);
  });

  it('replaces a turn that is started again (regenerate)', () => {
    const view = applyEvents(streamedTurn(), seq(7, { t: 'turn', turn: 0, prompt: 'hi' })).view;
    expect(view.turns).toHaveLength(1);
    expect(view.turns[0].answers.left).toEqual({ text: '', reasoning: '', status: 'pending' });
  });

  it('adds follow-up turns after the first', () => {
    const view = applyEvents(
      streamedTurn(),
      seq(7, { t: 'turn', turn: 1, prompt: 'more' }, { t: 'delta', side: 'left', turn: 1, text: 'x' }),
    ).view;
    expect(view.turns.map((t) => t.prompt)).toEqual(['hi', 'more']);
    expect(view.turns[0].answers.left.text).toBe('Hello');
    expect(view.turns[1].answers.left.text).toBe('x');
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

  it('applies out-of-order events within a frame in seq order', () => {
    const events = seq(7, { t: 'delta', side: 'left', turn: 0, text: 'A' }, { t: 'delta', side: 'left', turn: 0, text: 'B' });
    const view = applyEvents(streamedTurn(), events.reverse()).view;
    expect(view.turns[0].answers.left.text).toBe('HelloAB');
  });

  it('stops at a gap and says which seq is missing', () => {
    const events = seq(7, { t: 'delta', side: 'left', turn: 0, text: 'A' }, { t: 'delta', side: 'left', turn: 0, text: 'B' }, { t: 'delta', side: 'left', turn: 0, text: 'C' });
    const { view, missingSeq } = applyEvents(streamedTurn(), [events[0], events[2]]);
    expect(missingSeq).toBe(9);
    expect(view.seq).toBe(8);
    expect(view.turns[0].answers.left.text).toBe('HelloA');

    // After resuming from seq 8, the rest applies cleanly and the repeated C is skipped.
    const resumed = applyEvents(applyEvents(view, events.slice(1)).view, [events[2]]);
    expect(resumed.missingSeq).toBeUndefined();
    expect(resumed.view.turns[0].answers.left.text).toBe('HelloABC');
  });

  it('reports a gap at the very first event', () => {
    const { view, missingSeq } = applyEvents(streamedTurn(), seq(8, { t: 'leak', side: 'left' }));
    expect(missingSeq).toBe(8);
    expect(view.leak.left).toBe(false);
  });

  it('never mutates the view it was given', () => {
    const base = streamedTurn();
    const snapshot = structuredClone(base);
    applyEvents(
      base,
      seq(
        7,
        { t: 'delta', side: 'left', turn: 0, text: 'X' },
        { t: 'end', side: 'right', turn: 0, status: 'done' },
        { t: 'leak', side: 'left' },
        { t: 'turn', turn: 1, prompt: 'again' },
      ),
    );
    expect(base).toEqual(snapshot);
  });

  it('keeps untouched turns by reference', () => {
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

describe('tool calls (tools path)', () => {
  function toolsTurn(): BattleView {
    return applyEvents({ ...emptyView(), mode: 'tools', toolModel: 'llama3.1:8b' }, seq(0, { t: 'turn', turn: 0, prompt: 'What is 17 * 23 + 4?' })).view;
  }
  const call = (id: string, expression: string): BattleEvent => ({ t: 'tool-call', side: 'left', turn: 0, id, name: 'calculator', arguments: { expression } });

  it('appends each call to the answer in order, and a call means the model is at work', () => {
    const view = applyEvents(toolsTurn(), seq(1, call('c1', '17 * 23'), call('c2', '391 + 4'))).view;
    const left = view.turns[0].answers.left;
    expect(left.tools).toEqual([
      { id: 'c1', name: 'calculator', arguments: { expression: '17 * 23' } },
      { id: 'c2', name: 'calculator', arguments: { expression: '391 + 4' } },
    ]);
    expect(left.status).toBe('streaming');
    expect(view.turns[0].answers.right).toEqual({ text: '', reasoning: '', status: 'pending' });
  });

  it('fills in the result or the error of the call with that id', () => {
    const view = applyEvents(
      toolsTurn(),
      seq(
        1,
        call('c1', '17 * 23 + 4'),
        call('c2', '1 / 0'),
        { t: 'tool-result', side: 'left', turn: 0, id: 'c2', ok: false, error: 'division by zero', ms: 2 },
        { t: 'tool-result', side: 'left', turn: 0, id: 'c1', ok: true, result: { result: 395 }, ms: 1 },
      ),
    ).view;
    expect(view.turns[0].answers.left.tools).toEqual([
      { id: 'c1', name: 'calculator', arguments: { expression: '17 * 23 + 4' }, ok: true, result: { result: 395 }, ms: 1 },
      { id: 'c2', name: 'calculator', arguments: { expression: '1 / 0' }, ok: false, error: 'division by zero', ms: 2 },
    ]);
  });

  it('ignores a result for an unknown call', () => {
    const view = applyEvents(
      toolsTurn(),
      seq(1, call('c1', '2 + 2'), { t: 'tool-result', side: 'left', turn: 0, id: 'nope', ok: true, result: 4, ms: 1 }),
    ).view;
    expect(view.turns[0].answers.left.tools).toEqual([{ id: 'c1', name: 'calculator', arguments: { expression: '2 + 2' } }]);
  });

  it('skips repeated tool events by seq, within a frame and across frames', () => {
    const events = seq(1, call('c1', '2 + 2'), { t: 'tool-result', side: 'left', turn: 0, id: 'c1', ok: true, result: 4, ms: 3 });
    const once = applyEvents(toolsTurn(), [...events, ...events]).view;
    expect(once.turns[0].answers.left.tools).toEqual([{ id: 'c1', name: 'calculator', arguments: { expression: '2 + 2' }, ok: true, result: 4, ms: 3 }]);
    expect(once.seq).toBe(3);
    expect(applyEvents(once, events).view).toBe(once);
  });

  it('never mutates the calls of the view it was given', () => {
    const base = applyEvents(toolsTurn(), seq(1, call('c1', '2 + 2'))).view;
    const snapshot = structuredClone(base);
    applyEvents(base, seq(2, { t: 'tool-result', side: 'left', turn: 0, id: 'c1', ok: true, result: 4, ms: 1 }, call('c2', '3 + 3')));
    expect(base).toEqual(snapshot);
  });

  it('drops the calls of a regenerated turn', () => {
    const view = applyEvents(toolsTurn(), seq(1, call('c1', '2 + 2'), { t: 'turn', turn: 0, prompt: 'again' })).view;
    expect(view.turns[0].answers.left.tools).toBeUndefined();
  });
});

describe('blind reasoning', () => {
  it('a thinking event marks the turn (no side); the vote fills each side\'s reasoning from the reveal', () => {
    const start = applyEvents(emptyView(), seq(0, { t: 'turn', turn: 0, prompt: 'hi' }, { t: 'thinking', turn: 0, active: true })).view;
    expect(start.turns[0].thinking).toBe(true);
    const done = applyEvents(
      start,
      seq(
        2,
        { t: 'thinking', turn: 0, active: false },
        { t: 'delta', side: 'right', turn: 0, text: 'Answer' },
        { t: 'end', side: 'left', turn: 0, status: 'done' },
        { t: 'end', side: 'right', turn: 0, status: 'done' },
      ),
    ).view;
    expect(done.turns[0].thinking).toBe(false);
    expect(done.turns[0].answers.right.reasoning).toBe('');
    const voted = applyEvents(done, seq(6, { t: 'vote', choice: 'tie', reveal: { ...reveal, right: { ...reveal.right, reasoning: ['let me think'] } } })).view;
    expect(voted.turns[0].answers.right.reasoning).toBe('let me think');
    expect(voted.turns[0].answers.left.reasoning).toBe('');
    expect(done.turns[0].answers.right.reasoning).toBe(''); // the input view is not mutated
  });
});

describe('battle predicates', () => {
  it('opens voting only when both answers of the latest turn settled and no vote yet', () => {
    expect(canVote(undefined)).toBe(false);
    expect(canVote(emptyView())).toBe(false);

    const streaming = streamedTurn();
    expect(isRunning(streaming)).toBe(true);
    expect(canVote(streaming)).toBe(false);

    const settled = applyEvents(
      streaming,
      seq(7, { t: 'end', side: 'left', turn: 0, status: 'done' }, { t: 'end', side: 'right', turn: 0, status: 'error' }),
    ).view;
    expect(isRunning(settled)).toBe(false);
    expect(canVote(settled)).toBe(true);
    expect(latestTurn(settled)?.prompt).toBe('hi');

    const voted = applyEvents(settled, seq(9, { t: 'vote', choice: 'left', reveal })).view;
    expect(canVote(voted)).toBe(false);
  });

  it('on the tools path only the left answer counts, and there is never a vote', () => {
    const tools: BattleView = { ...emptyView(), mode: 'tools', toolModel: 'llama3.1:8b' };
    const streaming = applyEvents(tools, seq(0, { t: 'turn', turn: 0, prompt: '2+2' }, { t: 'delta', side: 'left', turn: 0, text: '4' })).view;
    expect(isRunning(streaming)).toBe(true);

    // The right answer stays pending for good: it must not keep the battle "running".
    const done = applyEvents(streaming, seq(2, { t: 'end', side: 'left', turn: 0, status: 'done' })).view;
    expect(done.turns[0].answers.right.status).toBe('pending');
    expect(isRunning(done)).toBe(false);
    expect(canVote(done)).toBe(false);
  });
});

describe('votes after a failed answer (shared vote rules)', () => {
  it('an interrupted side has ended, like a stopped one, but only "both bad" stays open and it does not count', () => {
    const ended = (left: 'stopped' | 'interrupted' | 'error', right: 'done' | 'stopped') =>
      applyEvents(
        streamedTurn(),
        seq(7, { t: 'end', side: 'left', turn: 0, status: left }, { t: 'end', side: 'right', turn: 0, status: right }),
      ).view;
    for (const status of ['interrupted', 'error'] as const) {
      const view = ended(status, 'done');
      expect(isRunning(view)).toBe(false);
      expect(canVote(view)).toBe(true);
      expect(failedSides(view.turns)).toEqual(['left']);
      expect(['left', 'right', 'tie', 'bothbad'].filter((c) => choiceAllowed(c as never, failedSides(view.turns)))).toEqual(['bothbad']);
      expect(uncountedReason(view)).toBe('answer_failed');
    }
    const stopped = ended('stopped', 'stopped');
    expect(failedSides(stopped.turns)).toEqual([]);
    expect(choiceAllowed('left', failedSides(stopped.turns))).toBe(true);
    expect(uncountedReason(stopped)).toBeUndefined();
    expect(uncountedReason({ ...stopped, leak: { left: false, right: true } })).toBe('identity_leak');
  });
});
