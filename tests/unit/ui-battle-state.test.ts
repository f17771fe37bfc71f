import { describe, expect, it } from 'vitest';
import { applyEvents, canVote, isRunning, latestTurn } from '../../src/lib/client/battle-state.js';
import type { BattleView } from '../../src/lib/shared/protocol.js';
import { choiceAllowed, failedSides, uncountedReason } from '../../src/lib/shared/vote-rules.js';
import { emptyView, reveal, seq, streamedTurn } from '../helpers/battle-events.js';

// The reducer itself (applyEvents) is tested once, for server and client: battle-reducer.test.ts.

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
