import { describe, expect, it } from 'vitest';
import { announcements } from '../../src/lib/client/announce.js';
import { applyEvents } from '../../src/lib/client/battle-state.js';
import type { BattleEvent, BattleView, Reveal } from '../../src/lib/shared/protocol.js';

const reveal: Reveal = {
  left: { model: 'm1', label: 'Model One', deployment: 'sim/m1', demo: true },
  right: { model: 'm2', label: 'Model Two', deployment: 'sim/m2', demo: true },
};

function apply(view: BattleView, ...events: BattleEvent[]): BattleView {
  return applyEvents(view, events.map((e, i) => ({ ...e, seq: view.seq + i + 1 }))).view;
}

const empty: BattleView = { id: 'b1', mode: 'arena', turns: [], leak: { left: false, right: false }, seq: 0 };

describe('the live region’s announcements', () => {
  it('walks a duel from prompt to reveal, naming the side each time and never announcing tokens', () => {
    const started = apply(empty, { t: 'turn', turn: 0, prompt: 'hi' });
    expect(announcements(empty, started, true)).toEqual(['Both models are answering']);
    const typing = apply(started, { t: 'delta', side: 'left', turn: 0, text: 'Hel' }, { t: 'delta', side: 'right', turn: 0, text: 'Yo' });
    expect(announcements(started, typing, true)).toEqual([]);
    const more = apply(typing, { t: 'delta', side: 'left', turn: 0, text: 'lo' });
    expect(announcements(typing, more, true)).toEqual([]);
    const rightDone = apply(more, { t: 'end', side: 'right', turn: 0, status: 'done' });
    expect(announcements(more, rightDone, true)).toEqual(['Model B finished']);
    const bothDone = apply(rightDone, { t: 'end', side: 'left', turn: 0, status: 'stopped' });
    expect(announcements(rightDone, bothDone, true)).toEqual(['Model A stopped', 'Both ready — vote 1 to 4']);
    expect(announcements(rightDone, bothDone, false)).toEqual(['Model A stopped', 'Both answers are finished']);
    const voted = apply(bothDone, { t: 'vote', choice: 'left', reveal });
    expect(announcements(bothDone, voted, true)).toEqual(['A was Model One, B was Model Two']);
    // The ack and the vote event both carry the reveal: it is said once.
    expect(announcements(voted, { ...voted }, true)).toEqual([]);
  });

  it('says nothing for a battle restored already finished, and announces a new battle from its first turn', () => {
    const done = apply(
      empty,
      { t: 'turn', turn: 0, prompt: 'hi' },
      { t: 'end', side: 'left', turn: 0, status: 'done' },
      { t: 'end', side: 'right', turn: 0, status: 'error' },
    );
    expect(announcements(undefined, done, true)).toEqual([]);
    const next = { ...apply({ ...empty, id: 'b2' }, { t: 'turn', turn: 0, prompt: 'hi' }) };
    expect(announcements(done, next, true)).toEqual(['Both models are answering']);
  });

  it('names the tool-calling model on the tools path and offers no vote', () => {
    const tools: BattleView = { ...empty, mode: 'tools', toolModel: 'qwen3:4b' };
    const started = apply(tools, { t: 'turn', turn: 0, prompt: '2+2?' });
    expect(announcements(tools, started, true)).toEqual(['qwen3:4b is answering']);
    const done = apply(started, { t: 'end', side: 'left', turn: 0, status: 'done' });
    expect(announcements(started, done, true)).toEqual(['qwen3:4b finished']);
  });

  it('names both models of a named comparison, and offers no vote there', () => {
    const named: BattleView = { ...empty, mode: 'named', named: { left: 'qwen3:4b', right: 'phi3:mini' } };
    const started = apply(named, { t: 'turn', turn: 0, prompt: 'hi' });
    const leftDone = apply(started, { t: 'end', side: 'left', turn: 0, status: 'done' });
    const bothDone = apply(leftDone, { t: 'end', side: 'right', turn: 0, status: 'done' });
    expect(announcements(started, leftDone, true)).toEqual(['qwen3:4b finished']);
    expect(announcements(leftDone, bothDone, true)).toEqual(['phi3:mini finished']);
  });
});
