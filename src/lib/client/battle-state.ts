/**
 * What the duel page asks of its BattleView. The page keeps one view and feeds it every
 * `battle:events` frame and `battle:resume` reply through `applyEvents`, the reducer it shares
 * with the server ($shared/battle-reducer).
 */
import { answeringSides, isSettled } from '../shared/battle-reducer';
import type { BattleView, TurnView } from '$shared/protocol';

export { answeringSides, applyEvents, isSettled, type ApplyResult } from '../shared/battle-reducer';

export function latestTurn(view: BattleView | undefined): TurnView | undefined {
  return view?.turns[view.turns.length - 1];
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
