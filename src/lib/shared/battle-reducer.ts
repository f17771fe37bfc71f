/**
 * The one reducer of a battle's event log. The server applies it to the stored record
 * (server/arena/record.ts), every client to its BattleView (`applyEvents` below), so a view
 * rebuilt from the record and a view fed frame by frame always agree.
 *
 * The rules live in `reduceEvent`; where it writes is a `BattleDraft`: the record in place
 * (`inPlaceDraft`), or a view copy-on-write (`applyEvents`), which keeps the input view intact
 * and copies only the turns and answers an event touches.
 */
import type { AnswerStatus, AnswerView, BattleEvent, BattleMode, BattleView, SeqEvent, Side, TurnView } from './protocol.js';

/** What the events change of an answer: the view's fields (the server's record keeps more). */
export type AnswerState = Pick<AnswerView, 'text' | 'reasoning' | 'status' | 'error' | 'resumed' | 'tools'>;

export interface TurnState {
  prompt: string;
  answers: Record<Side, AnswerState>;
  thinking?: boolean;
}

export type VoteEvent = Extract<BattleEvent, { t: 'vote' }>;

/** Where `reduceEvent` writes. */
export interface BattleDraft<T extends TurnState = TurnState> {
  /** The draft's own array: the reducer may shorten it and assign to it. */
  readonly turns: T[];
  /** The draft's own object. */
  readonly leak: Record<Side, boolean>;
  newTurn(prompt: string): T;
  /** A writable turn, or undefined for a turn this battle never saw. */
  turn(index: number): T | undefined;
  /** A writable answer, or undefined for a turn this battle never saw. */
  answer(index: number, side: Side): AnswerState | undefined;
  /** Keeps the vote: the record its choice, a view also the reveal and tournament. */
  vote(event: VoteEvent): void;
}

/** Applies one event. Events for a turn the draft never saw are ignored. */
export function reduceEvent<T extends TurnState>(draft: BattleDraft<T>, event: BattleEvent): void {
  switch (event.t) {
    case 'turn':
      // A turn index that already exists is a regeneration: it replaces that turn and any after.
      draft.turns.length = Math.min(draft.turns.length, event.turn);
      draft.turns[event.turn] = draft.newTurn(event.prompt);
      return;
    case 'status': {
      const answer = draft.answer(event.turn, event.side);
      if (!answer) return;
      // `resumed` is a marker (continued on another backend), not a status.
      if (event.status === 'resumed') answer.resumed = true;
      else answer.status = event.status;
      return;
    }
    case 'delta': {
      const answer = draft.answer(event.turn, event.side);
      if (!answer) return;
      if (event.text) answer.text += event.text;
      if (event.reasoning) answer.reasoning += event.reasoning;
      atWork(answer);
      return;
    }
    case 'end': {
      const answer = draft.answer(event.turn, event.side);
      if (!answer) return;
      answer.status = event.status;
      if (event.error) answer.error = event.error;
      return;
    }
    case 'thinking': {
      const turn = draft.turn(event.turn);
      if (turn) turn.thinking = event.active;
      return;
    }
    case 'leak':
      draft.leak[event.side] = true;
      return;
    case 'tool-call': {
      const answer = draft.answer(event.turn, event.side);
      if (!answer) return;
      // Replaced, not pushed to: a view's array is shared with the view it was copied from.
      answer.tools = [...(answer.tools ?? []), { id: event.id, name: event.name, arguments: event.arguments }];
      atWork(answer);
      return;
    }
    case 'tool-result': {
      const answer = draft.answer(event.turn, event.side);
      if (!answer?.tools) return;
      const outcome = event.ok ? { ok: true, result: event.result } : { ok: false, error: event.error };
      answer.tools = answer.tools.map((call) => (call.id === event.id ? { ...call, ...outcome, ms: event.ms } : call));
      return;
    }
    case 'vote':
      revealReasoning(draft, event);
      draft.vote(event);
      return;
  }
}

/** Text or a tool call means the model is at work, even if no `streaming` status said so (a resumed run, the tools path). */
function atWork(answer: AnswerState): void {
  if (!isSettled(answer.status)) answer.status = 'streaming';
}

/** Blind battles send reasoning only with the reveal: each turn's text goes to its answer, and nobody is "thinking" any more. */
function revealReasoning<T extends TurnState>(draft: BattleDraft<T>, { reveal }: VoteEvent): void {
  for (const side of ['left', 'right'] as const) {
    reveal[side].reasoning?.forEach((text, turnIndex) => {
      const answer = text ? draft.answer(turnIndex, side) : undefined;
      if (answer) answer.reasoning = text;
    });
  }
  draft.turns.forEach((turn, i) => {
    if (turn.thinking) draft.turn(i)!.thinking = false;
  });
}

// ---------------------------------------------------------------- the two drafts

/** Writes straight into `battle` (the server's record, which it owns). */
export function inPlaceDraft<T extends TurnState>(
  battle: { turns: T[]; leak: Record<Side, boolean> },
  newTurn: (prompt: string) => T,
  vote: (event: VoteEvent) => void,
): BattleDraft<T> {
  return {
    turns: battle.turns,
    leak: battle.leak,
    newTurn,
    turn: (i) => battle.turns[i],
    answer: (i, side) => battle.turns[i]?.answers[side],
    vote,
  };
}

export interface ApplyResult {
  view: BattleView;
  /** Set when an event is missing: ask `battle:resume` with `afterSeq = missingSeq - 1`. */
  missingSeq?: number;
}

/**
 * Applies events to a view strictly in seq order. Duplicates (seq ≤ view.seq) are skipped; at the
 * first gap it stops and reports the seq it needs. The input view is never mutated: only the turns
 * and answers an event touches are copied, once per call, so a frame of many deltas stays cheap.
 */
export function applyEvents(view: BattleView, events: SeqEvent[]): ApplyResult {
  const fresh = [...events].filter((e) => e.seq > view.seq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return { view };

  const next: BattleView = { ...view, turns: [...view.turns], leak: { ...view.leak } };
  const draft = new ViewDraft(next);
  for (const event of fresh) {
    if (event.seq <= next.seq) continue; // duplicate inside the same batch
    if (event.seq !== next.seq + 1) return { view: next, missingSeq: next.seq + 1 };
    reduceEvent(draft, event);
    next.seq = event.seq;
  }
  return { view: next };
}

/** Copy-on-write access to the turns of a view being built by `applyEvents`. */
class ViewDraft implements BattleDraft<TurnView> {
  private readonly copied = new WeakSet<object>();

  constructor(private readonly view: BattleView) {}

  get turns(): TurnView[] {
    return this.view.turns;
  }

  get leak(): Record<Side, boolean> {
    return this.view.leak;
  }

  newTurn(prompt: string): TurnView {
    return this.own(pendingTurn(prompt));
  }

  turn(index: number): TurnView | undefined {
    const turn = this.view.turns[index];
    if (!turn) return undefined;
    if (this.copied.has(turn)) return turn;
    return (this.view.turns[index] = this.own({ ...turn, answers: { ...turn.answers } }));
  }

  answer(index: number, side: Side): AnswerView | undefined {
    const turn = this.turn(index);
    if (!turn) return undefined;
    const answer = turn.answers[side];
    if (this.copied.has(answer)) return answer;
    return (turn.answers[side] = this.own({ ...answer }));
  }

  vote(event: VoteEvent): void {
    this.view.vote = event.choice;
    this.view.reveal = event.reveal;
    if (event.tournament) this.view.tournament = event.tournament;
  }

  /** Marks an object built during this call as safe to write. */
  private own<O extends object>(o: O): O {
    this.copied.add(o);
    return o;
  }
}

function pendingTurn(prompt: string): TurnView {
  const pending = (): AnswerView => ({ text: '', reasoning: '', status: 'pending' });
  return { prompt, answers: { left: pending(), right: pending() } };
}

// ---------------------------------------------------------------- predicates both sides use

/** The answer will not change any more. */
export function isSettled(status: AnswerStatus): boolean {
  return status === 'done' || status === 'stopped' || status === 'interrupted' || status === 'error';
}

/** The sides that answer: both in a duel, only the left one on the tools path (the right stays pending). */
export function answeringSides(battle: { mode: BattleMode }): readonly Side[] {
  return battle.mode === 'tools' ? ['left'] : ['left', 'right'];
}
