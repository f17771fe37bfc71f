import { applyEvents } from '../../src/lib/shared/battle-reducer.js';
import type { BattleEvent, BattleMode, BattleView, Reveal, SeqEvent } from '../../src/lib/shared/protocol.js';

/** Fixtures for the battle reducer's tests (server record and client view alike). */

export function emptyView(mode: BattleMode = 'arena'): BattleView {
  return { id: 'b1', mode, turns: [], leak: { left: false, right: false }, seq: 0 };
}

/** Numbers events consecutively starting after `after`. */
export function seq(after: number, ...events: BattleEvent[]): SeqEvent[] {
  return events.map((e, i) => ({ ...e, seq: after + i + 1 }));
}

export const reveal: Reveal = {
  left: { model: 'm1', label: 'Model One', deployment: 'sim/m1', demo: true, ttftMs: 120 },
  right: { model: 'm2', label: 'Model Two', deployment: 'sim/m2', demo: true },
};

/** Turn 0, both sides streaming (seq 1–7): left with reasoning and "Hello", right with "Yo". */
export const streamed: BattleEvent[] = [
  { t: 'turn', turn: 0, prompt: 'hi' },
  { t: 'status', side: 'left', turn: 0, status: 'loading' },
  { t: 'status', side: 'left', turn: 0, status: 'streaming' },
  { t: 'delta', side: 'left', turn: 0, reasoning: 'think' },
  { t: 'delta', side: 'left', turn: 0, text: 'Hel' },
  { t: 'delta', side: 'right', turn: 0, text: 'Yo' },
  { t: 'delta', side: 'left', turn: 0, text: 'lo' },
];

/** A view after `streamed`. */
export const streamedTurn = (): BattleView => applyEvents(emptyView(), seq(0, ...streamed)).view;
