import type { BattleEvent, BattleView, Reveal, Side, SideReveal, TurnView } from '../../src/lib/shared/protocol.js';
import type { BattleRecord, SideAnswer, Turn } from '../store/types.js';

const emptyAnswer = (): SideAnswer => ({ text: '', reasoning: '', status: 'pending' });

export function newTurn(prompt: string): Turn {
  return { prompt, startedAt: Date.now(), answers: { left: emptyAnswer(), right: emptyAnswer() } };
}

/** The server-side reducer: the same events the clients apply, applied to the stored record. */
export function applyEvent(record: BattleRecord, event: BattleEvent): void {
  switch (event.t) {
    case 'turn':
      // A repeated turn index is a regenerate: the turn starts over.
      record.turns[event.turn] = newTurn(event.prompt);
      return;
    case 'status': {
      const answer = record.turns[event.turn]?.answers[event.side];
      if (!answer) return;
      if (event.status === 'resumed') answer.resumed = true;
      else answer.status = event.status;
      return;
    }
    case 'delta': {
      const answer = record.turns[event.turn]?.answers[event.side];
      if (!answer) return;
      if (event.text) answer.text += event.text;
      if (event.reasoning) answer.reasoning += event.reasoning;
      return;
    }
    case 'end': {
      const answer = record.turns[event.turn]?.answers[event.side];
      if (!answer) return;
      answer.status = event.status;
      if (event.error) answer.error = event.error;
      return;
    }
    case 'thinking': {
      const turn = record.turns[event.turn];
      if (turn) turn.thinking = event.active;
      return;
    }
    case 'leak':
      record.leak[event.side] = true;
      return;
    case 'tool-call': {
      const answer = record.turns[event.turn]?.answers[event.side];
      if (answer) (answer.tools ??= []).push({ id: event.id, name: event.name, arguments: event.arguments });
      return;
    }
    case 'tool-result': {
      const call = record.turns[event.turn]?.answers[event.side].tools?.find((c) => c.id === event.id);
      if (call) Object.assign(call, { ok: event.ok, ms: event.ms, ...(event.ok ? { result: event.result } : { error: event.error }) });
      return;
    }
    case 'vote':
      record.vote ??= { choice: event.choice, at: Date.now() };
      return;
  }
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

export function isEnded(answer: SideAnswer): boolean {
  return answer.status === 'done' || answer.status === 'stopped' || answer.status === 'interrupted' || answer.status === 'error';
}

/** The sides that answer: both in a duel, one on the tools path. */
export function sidesOf(record: BattleRecord): readonly Side[] {
  return record.mode === 'tools' ? ['left'] : ['left', 'right'];
}

export function isSettled(record: BattleRecord): boolean {
  const last = record.turns.at(-1);
  return Boolean(last && sidesOf(record).every((s) => isEnded(last.answers[s])));
}
