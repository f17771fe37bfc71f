import type { VoteChoice, VoteRecord } from '../store/types.js';

/**
 * Online Elo as the reference arena runs it: K = 4, base 10, scale 400, start 1000, ties and
 * "both bad" score half. Depends on vote order; callers pass votes oldest first.
 */

const K = 4;
const SCALE = 400;
const INITIAL_RATING = 1000;
const LEFT_SCORE: Record<VoteChoice, number> = { left: 1, right: 0, tie: 0.5, bothbad: 0.5 };

export function computeElo(votes: readonly VoteRecord[]): Map<string, number> {
  const ratings = new Map<string, number>();
  for (const vote of votes) applyElo(ratings, vote);
  return ratings;
}

/** One online update, in place: applying votes one by one equals computeElo over all of them. */
export function applyElo(ratings: Map<string, number>, vote: VoteRecord): void {
  const left = ratings.get(vote.modelLeft) ?? INITIAL_RATING;
  const right = ratings.get(vote.modelRight) ?? INITIAL_RATING;
  const expectedLeft = 1 / (1 + 10 ** ((right - left) / SCALE));
  const update = K * (LEFT_SCORE[vote.choice] - expectedLeft);
  ratings.set(vote.modelLeft, left + update);
  ratings.set(vote.modelRight, right - update);
}
