import { createHash } from 'node:crypto';
import { uncountedReason } from '../../src/lib/shared/vote-rules.js';
import { boardIds } from '../classify/categories.js';
import type { BattleRecord, CrowdTally, VoteChoice, VoteRecord } from './types.js';

/** The rating row for a battle voted `choice` at `at`; both drivers and the exports derive it here. */
export function voteRecordFor(battle: BattleRecord, choice: VoteChoice, at: number): VoteRecord {
  return {
    battleId: battle.id,
    modelLeft: battle.models.left,
    modelRight: battle.models.right,
    choice,
    // A side that revealed its identity makes the vote non-blind, a failed side makes it say
    // nothing about the models: keep it, do not rate it.
    excluded: uncountedReason(battle) !== undefined,
    judge: battle.sessionHash,
    tstamp: at,
    ...(battle.categories && { categories: boardIds(battle.categories) }),
    ...(battle.style && { style: battle.style }),
    ...(battle.turns.length > 0 && { promptHash: promptHash(battle.turns[0].prompt) }),
  };
}

/** Case and spacing do not make a prompt new. */
export function promptHash(prompt: string): string {
  return createHash('sha256').update(prompt.trim().replace(/\s+/g, ' ').toLowerCase()).digest('hex').slice(0, 16);
}

/** The battle minus its vote: drivers attach the stored vote themselves, never the caller's. */
export function withoutVote(battle: BattleRecord): Omit<BattleRecord, 'vote'> {
  const copy = { ...battle };
  delete copy.vote;
  return copy;
}

export function emptyTally(): CrowdTally {
  return { left: 0, right: 0, tie: 0, bothbad: 0 };
}
