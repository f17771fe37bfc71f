/**
 * Pure reducer for a battle's ordered event log, plus the small predicates the duel page needs.
 * The page keeps one BattleView and feeds it every `battle:events` frame and `battle:resume` reply.
 */
import type {
  AnswerStatus,
  AnswerView,
  BattleEvent,
  BattleView,
  Reveal,
  SeqEvent,
  Side,
  TurnView,
} from '$shared/protocol';

export interface ApplyResult {
  view: BattleView;
  /** Set when an event is missing: ask `battle:resume` with `afterSeq = missingSeq - 1`. */
  missingSeq?: number;
}

/**
 * Applies events strictly in seq order. Duplicates (seq ≤ view.seq) are skipped; at the first gap
 * it stops and reports the seq it needs. The input view is never mutated: only the turns and
 * answers an event touches are copied, once per call, so a frame of many deltas stays cheap.
 */
export function applyEvents(view: BattleView, events: SeqEvent[]): ApplyResult {
  const fresh = [...events].filter((e) => e.seq > view.seq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return { view };

  const next: BattleView = { ...view, turns: [...view.turns], leak: { ...view.leak } };
  const copied = new WeakSet<object>();
  const draft = new Draft(next, copied);

  for (const event of fresh) {
    if (event.seq <= next.seq) continue; // duplicate inside the same batch
    if (event.seq !== next.seq + 1) return { view: next, missingSeq: next.seq + 1 };
    draft.apply(event);
    next.seq = event.seq;
  }
  return { view: next };
}

/** Copy-on-write access to the turns of a view being built by `applyEvents`. */
class Draft {
  constructor(
    private readonly view: BattleView,
    private readonly copied: WeakSet<object>,
  ) {}

  apply(event: BattleEvent): void {
    switch (event.t) {
      case 'turn':
        // A turn index that already exists is a regeneration: it replaces that turn and any after.
        this.view.turns.length = Math.min(this.view.turns.length, event.turn);
        this.view.turns[event.turn] = this.ownTurn(newTurn(event.prompt));
        return;
      case 'status': {
        const answer = this.answer(event.turn, event.side);
        if (!answer) return;
        if (event.status === 'resumed') answer.resumed = true;
        else answer.status = event.status;
        return;
      }
      case 'delta': {
        const answer = this.answer(event.turn, event.side);
        if (!answer) return;
        if (event.text) answer.text += event.text;
        if (event.reasoning) answer.reasoning += event.reasoning;
        if (!isSettled(answer.status)) answer.status = 'streaming';
        return;
      }
      case 'end': {
        const answer = this.answer(event.turn, event.side);
        if (!answer) return;
        answer.status = event.status;
        if (event.error) answer.error = event.error;
        return;
      }
      case 'thinking': {
        const turn = this.turn(event.turn);
        if (turn) turn.thinking = event.active;
        return;
      }
      case 'leak':
        this.view.leak[event.side] = true;
        return;
      case 'tool-call': {
        const answer = this.answer(event.turn, event.side);
        if (!answer) return;
        // The array is shared with the input view, so it is replaced rather than pushed to.
        answer.tools = [...(answer.tools ?? []), { id: event.id, name: event.name, arguments: event.arguments }];
        // Like a delta: the model is at work even if no status event said so yet.
        if (!isSettled(answer.status)) answer.status = 'streaming';
        return;
      }
      case 'tool-result': {
        const answer = this.answer(event.turn, event.side);
        if (!answer?.tools) return;
        const outcome = event.ok ? { ok: true, result: event.result } : { ok: false, error: event.error };
        answer.tools = answer.tools.map((call) => (call.id === event.id ? { ...call, ...outcome, ms: event.ms } : call));
        return;
      }
      case 'vote':
        this.view.vote = event.choice;
        this.view.reveal = event.reveal;
        if (event.tournament) this.view.tournament = event.tournament;
        this.revealReasoning(event.reveal);
        return;
    }
  }

  /** Blind battles send reasoning only with the reveal: each turn's text goes to its answer. */
  private revealReasoning(reveal: Reveal): void {
    for (const side of ['left', 'right'] as const) {
      reveal[side].reasoning?.forEach((text, turnIndex) => {
        const answer = text ? this.answer(turnIndex, side) : undefined;
        if (answer) answer.reasoning = text;
      });
    }
    this.view.turns.forEach((turn, i) => {
      if (turn.thinking) this.turn(i)!.thinking = false;
    });
  }

  /** A writable copy of one turn, or undefined for a turn this view never saw. */
  private turn(turnIndex: number): TurnView | undefined {
    const turn = this.view.turns[turnIndex];
    if (!turn) return undefined;
    const ownTurn = this.copied.has(turn) ? turn : this.ownTurn({ ...turn, answers: { ...turn.answers } });
    this.view.turns[turnIndex] = ownTurn;
    return ownTurn;
  }

  /** A writable copy of one answer, or undefined for a turn this view never saw. */
  private answer(turnIndex: number, side: Side): AnswerView | undefined {
    const ownTurn = this.turn(turnIndex);
    if (!ownTurn) return undefined;
    const answer = ownTurn.answers[side];
    if (this.copied.has(answer)) return answer;
    const ownAnswer = { ...answer };
    this.copied.add(ownAnswer);
    return (ownTurn.answers[side] = ownAnswer);
  }

  /** Marks a turn built during this call, whose answers object is its own, as safe to write. */
  private ownTurn(turn: TurnView): TurnView {
    this.copied.add(turn);
    return turn;
  }
}

function newTurn(prompt: string): TurnView {
  const pending = (): AnswerView => ({ text: '', reasoning: '', status: 'pending' });
  return { prompt, answers: { left: pending(), right: pending() } };
}

/** The answer will not change any more. */
export function isSettled(status: AnswerStatus): boolean {
  return status === 'done' || status === 'stopped' || status === 'interrupted' || status === 'error';
}

export function latestTurn(view: BattleView | undefined): TurnView | undefined {
  return view?.turns[view.turns.length - 1];
}

/** The sides that answer: both in a duel, only the left one on the tools path (the right stays pending). */
export function answeringSides(view: BattleView): readonly Side[] {
  return view.mode === 'tools' ? ['left'] : ['left', 'right'];
}

/** Some answer of the latest turn is still being produced. */
export function isRunning(view: BattleView | undefined): boolean {
  const turn = latestTurn(view);
  return !!view && !!turn && answeringSides(view).some((side) => !isSettled(turn.answers[side].status));
}

/** Voting opens once both answers of the latest turn have settled, and only once. Tool answers and named comparisons are never rated. */
export function canVote(view: BattleView | undefined): boolean {
  return !!view && view.mode !== 'tools' && view.mode !== 'named' && !view.vote && view.turns.length > 0 && !isRunning(view);
}
