import type { VoteChoice, VoteRecord } from '../../server/store/types.js';

/** Test-only vote factory: the fields ratings ignore get fixed values. */
export function vote(modelLeft: string, modelRight: string, choice: VoteChoice, excluded = false): VoteRecord {
  return { battleId: `${modelLeft}-${modelRight}`, modelLeft, modelRight, choice, excluded, judge: 'j', tstamp: 0 };
}

/** `count` copies of the same vote. */
export function votes(count: number, modelLeft: string, modelRight: string, choice: VoteChoice): VoteRecord[] {
  return Array.from({ length: count }, () => vote(modelLeft, modelRight, choice));
}

/** Battles drawn from known Bradley-Terry ratings: uniform pairs, no ties. */
export function simulatedVotes(ratings: Record<string, number>, battles: number, rng: () => number): VoteRecord[] {
  const models = Object.keys(ratings);
  return Array.from({ length: battles }, () => {
    const left = Math.floor(rng() * models.length);
    const right = (left + 1 + Math.floor(rng() * (models.length - 1))) % models.length;
    const leftWins = 1 / (1 + 10 ** ((ratings[models[right]] - ratings[models[left]]) / 400));
    return vote(models[left], models[right], rng() < leftWins ? 'left' : 'right');
  });
}
