/**
 * What the page's one live region says when a battle changes: side-aware, short, and only on
 * transitions (a screen reader must not hear every token). Pure, so it is unit tested.
 */
import type { AnswerStatus, BattleView, Side } from '$shared/protocol';
import { answeringSides, isSettled, latestTurn } from './battle-state';

export const SIDE_NAMES: Record<Side, string> = { left: 'Model A', right: 'Model B' };

const ENDED: Partial<Record<AnswerStatus, string>> = {
  done: 'finished',
  stopped: 'stopped',
  interrupted: 'was cut off',
  error: 'failed',
};

function sideName(view: BattleView, side: Side): string {
  if (view.mode === 'tools') return view.toolModel ?? 'The tool-calling model';
  return view.named?.[side] ?? SIDE_NAMES[side];
}

function allSettled(view: BattleView | undefined): boolean {
  const turn = latestTurn(view);
  return !!view && !!turn && answeringSides(view).every((side) => isSettled(turn.answers[side].status));
}

/**
 * The messages for going from `before` to `after`. `voting`: the reader can vote (the owner's page);
 * spectators hear that both finished instead.
 */
export function announcements(before: BattleView | undefined, after: BattleView | undefined, voting: boolean): string[] {
  if (!after) return [];
  const sameBattle = before?.id === after.id;
  const turn = latestTurn(after);
  const messages: string[] = [];
  const newTurn = !sameBattle || (before?.turns.length ?? 0) !== after.turns.length || latestTurn(before)?.prompt !== turn?.prompt;
  if (turn && newTurn && !allSettled(after)) {
    messages.push(after.mode === 'tools' ? `${sideName(after, 'left')} is answering` : 'Both models are answering');
  }
  if (turn) {
    const previous = sameBattle && !newTurn ? latestTurn(before) : undefined;
    for (const side of answeringSides(after)) {
      const status = turn.answers[side].status;
      const was = previous?.answers[side].status;
      if (previous && ENDED[status] && was !== status) messages.push(`${sideName(after, side)} ${ENDED[status]}`);
    }
  }
  const readyNow = allSettled(after) && !after.vote && after.mode !== 'tools' && after.mode !== 'named';
  const readyBefore = sameBattle && !newTurn && allSettled(before) && !before?.vote;
  if (readyNow && !readyBefore && messages.length > 0) messages.push(voting ? 'Both ready — vote 1 to 4' : 'Both answers are finished');
  if (after.reveal && after.vote && !(sameBattle && before?.reveal)) {
    messages.push(`A was ${after.reveal.left.label}, B was ${after.reveal.right.label}`);
  }
  return messages;
}
