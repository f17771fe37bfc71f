/**
 * Which votes an arena accepts and which it counts, shared by the server (which enforces it) and
 * the UI (which disables what the server would refuse).
 *
 * FastChat disables voting once an answer failed: a failed or cut-off answer says nothing about
 * the model's quality, so preferring the other side would rate an outage, not a model. A user's
 * own Stop is a normal answer (the user judged it complete enough). "Both are bad" stays open, so
 * the person can close the battle and see the names, but it is stored without counting.
 */
import type { AnswerStatus, Side, TurnView, UncountedReason, VoteChoice } from './protocol.js';

/** Ended without a whole answer, for a reason other than the user's own Stop. */
export function isFailedAnswer(status: AnswerStatus): boolean {
  return status === 'error' || status === 'interrupted';
}

/** The sides with a failed answer in any turn of the conversation the person is judging. */
export function failedSides(turns: readonly Pick<TurnView, 'answers'>[], sides: readonly Side[] = ['left', 'right']): Side[] {
  return sides.filter((side) => turns.some((turn) => isFailedAnswer(turn.answers[side].status)));
}

/** The choices still open when some answer failed. */
export const CHOICES_AFTER_FAILURE: readonly VoteChoice[] = ['bothbad'];

export function choiceAllowed(choice: VoteChoice, failed: readonly Side[]): boolean {
  return failed.length === 0 || CHOICES_AFTER_FAILURE.includes(choice);
}

/** Why a stored vote will not count in the ratings, or undefined when it counts. */
export function uncountedReason(battle: { leak: Record<Side, boolean>; turns: readonly Pick<TurnView, 'answers'>[] }): UncountedReason | undefined {
  if (battle.leak.left || battle.leak.right) return 'identity_leak';
  if (failedSides(battle.turns).length > 0) return 'answer_failed';
  return undefined;
}
