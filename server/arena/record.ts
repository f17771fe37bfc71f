import { answeringSides, inPlaceDraft, isSettled, reduceEvent } from '../../src/lib/shared/battle-reducer.js';
import type { BattleEvent, BattleView, Reveal, Side, SideReveal, TurnView } from '../../src/lib/shared/protocol.js';
import type { BattleRecord, SideAnswer, Turn } from '../store/types.js';

const emptyAnswer = (): SideAnswer => ({ text: '', reasoning: '', status: 'pending' });

export function newTurn(prompt: string): Turn {
  return { prompt, startedAt: Date.now(), answers: { left: emptyAnswer(), right: emptyAnswer() } };
}

/**
 * The server's side of the shared reducer ($shared/battle-reducer): the same events the clients
 * apply, applied to the stored record in place, a frame's events through one draft. The record
 * keeps the first vote's choice and time; the reveal is rebuilt from the record (buildReveal), never stored.
 */
export function applyEvents(record: BattleRecord, events: readonly BattleEvent[]): void {
  const draft = inPlaceDraft(record, newTurn, (vote) => {
    record.vote ??= { choice: vote.choice, at: Date.now() };
  });
  for (const event of events) reduceEvent(draft, event);
}

/** What a client may see. Before the vote: text and statuses only, no model, backend or timing. */
export function toView(record: BattleRecord, seq: number, reveal: Reveal | undefined, owner: boolean): BattleView {
  // A blind battle's reasoning is part of the reveal; the tools path and named mode name their models anyway.
  const showReasoning = Boolean(reveal) || record.mode === 'tools' || record.mode === 'named';
  const turns: TurnView[] = record.turns.map((turn) => ({
    prompt: turn.prompt,
    answers: { left: answerView(turn.answers.left, showReasoning), right: answerView(turn.answers.right, showReasoning) },
    ...(turn.thinking && !reveal ? { thinking: true } : {}),
  }));
  return {
    id: record.id,
    mode: record.mode,
    turns,
    leak: { ...record.leak },
    seq,
    ...(record.route ? { route: record.route } : {}),
    ...(record.mode === 'tools' ? { toolModel: record.models.left } : {}),
    ...(record.mode === 'named' ? { named: { ...record.models } } : {}),
    ...(record.vote && reveal ? { vote: record.vote.choice, reveal } : {}),
    ...(owner ? { sharePath: `/watch/${record.id}?t=${record.watchToken}` } : {}),
  };
}

function answerView(a: SideAnswer, showReasoning: boolean) {
  return {
    text: a.text,
    reasoning: showReasoning ? a.reasoning : '',
    status: a.status,
    ...(a.error ? { error: a.error } : {}),
    ...(a.resumed ? { resumed: true } : {}),
    ...(a.tools ? { tools: a.tools.map((t) => ({ ...t })) } : {}),
  };
}

/** Only called once the battle has a vote. */
export function buildReveal(record: BattleRecord, describe: (modelId: string) => { label: string; demo: boolean }): Reveal {
  const last = record.turns.at(-1);
  const side = (s: Side): SideReveal => {
    const a = last?.answers[s];
    const { label, demo } = describe(record.models[s]);
    return {
      model: record.models[s],
      label,
      demo,
      deployment: a?.deployment ?? 'unknown',
      ...(a?.ttftMs !== undefined ? { ttftMs: Math.round(a.ttftMs) } : {}),
      ...(a?.tokensPerSecond !== undefined ? { tokensPerSecond: Math.round(a.tokensPerSecond * 10) / 10 } : {}),
      ...(a?.completionTokens !== undefined ? { completionTokens: a.completionTokens } : {}),
      ...reasoningOf(record, s),
    };
  };
  return { left: side('left'), right: side('right') };
}

function reasoningOf(record: BattleRecord, side: Side): { reasoning?: string[] } {
  const reasoning = record.turns.map((t) => t.answers[side].reasoning);
  return reasoning.some(Boolean) ? { reasoning } : {};
}

/** Every answering side of the latest turn has ended. */
export function lastTurnSettled(record: BattleRecord): boolean {
  const last = record.turns.at(-1);
  return Boolean(last && answeringSides(record).every((s) => isSettled(last.answers[s].status)));
}
