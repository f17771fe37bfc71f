import { z } from 'zod';
import type { BattleRecord, Side, VoteChoice, VoteRecord } from '../store/types.js';
import { voteRecordFor } from '../store/vote-record.js';

/**
 * Exports of voted battles: the FastChat / Chatbot Arena battle format (one JSON object per line,
 * readable by its Elo/Bradley-Terry notebooks) and DPO preference pairs; plus the reverse mapping
 * so an exported file can be imported to rebuild the ratings.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type FastChatWinner = 'model_a' | 'model_b' | 'tie' | 'tie (bothbad)';

export interface FastChatBattle {
  question_id: string;
  model_a: string;
  model_b: string;
  winner: FastChatWinner;
  judge: string;
  conversation_a: ChatMessage[];
  conversation_b: ChatMessage[];
  turn: number;
  anony: true;
  language: 'unknown';
  /** Epoch seconds, as FastChat writes it. */
  tstamp: number;
  /** Arena extension: a side leaked its identity, so the vote is kept but not rated. */
  arena_excluded: boolean;
}

/** TRL's conversational preference format. */
export interface PreferencePair {
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

const WINNER_OF: Record<VoteChoice, FastChatWinner> = {
  left: 'model_a',
  right: 'model_b',
  tie: 'tie',
  bothbad: 'tie (bothbad)',
};
const CHOICE_OF: Record<FastChatWinner, VoteChoice> = {
  model_a: 'left',
  model_b: 'right',
  tie: 'tie',
  'tie (bothbad)': 'bothbad',
};

export function toFastChatBattle(battle: BattleRecord): FastChatBattle {
  const vote = voteOf(battle);
  const record = voteRecordFor(battle, vote.choice, vote.at);
  return {
    question_id: record.battleId,
    model_a: record.modelLeft,
    model_b: record.modelRight,
    winner: WINNER_OF[record.choice],
    judge: record.judge,
    conversation_a: conversationOf(battle, 'left'),
    conversation_b: conversationOf(battle, 'right'),
    turn: battle.turns.length,
    anony: true,
    language: 'unknown',
    tstamp: record.tstamp / 1000,
    arena_excluded: record.excluded,
  };
}

/**
 * A DPO pair for a left/right vote; null for ties, "both bad" and battles without turns.
 *
 * Multi-turn: the two sides diverge after the first answer (each later prompt follows a different
 * reply), so the only context both answers truly share is the system prompt plus the first user
 * prompt. That is `prompt`; `chosen` and `rejected` hold the rest of each side's conversation,
 * later user prompts included.
 */
export function toPreferencePair(battle: BattleRecord): PreferencePair | null {
  const choice = voteOf(battle).choice;
  if ((choice !== 'left' && choice !== 'right') || battle.turns.length === 0) return null;
  const loser: Side = choice === 'left' ? 'right' : 'left';
  const chosen = conversationOf(battle, choice);
  const sharedLength = chosen.findIndex((message) => message.role === 'user') + 1;
  return {
    prompt: chosen.slice(0, sharedLength),
    chosen: chosen.slice(sharedLength),
    rejected: conversationOf(battle, loser).slice(sharedLength),
  };
}

/** A bad exported line: `field` is the dotted path of the first offending field. */
export class InvalidBattleError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'InvalidBattleError';
  }
}

const FastChatLineSchema = z.object({
  question_id: z.string().min(1),
  model_a: z.string().min(1),
  model_b: z.string().min(1),
  winner: z.enum(['model_a', 'model_b', 'tie', 'tie (bothbad)']),
  judge: z.string(),
  tstamp: z.number().nonnegative(),
  anony: z.boolean().optional(),
  arena_excluded: z.boolean().optional(),
});

/**
 * Reads one exported battle back as a vote. Also accepts FastChat's own battle dumps, where
 * non-anonymous battles (`anony: false`) are kept but excluded from ratings as not blind.
 */
export function fromFastChatBattle(line: unknown): VoteRecord {
  const parsed = FastChatLineSchema.safeParse(line);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidBattleError(issue.path.join('.') || '(line)', issue.message);
  }
  const battle = parsed.data;
  return {
    battleId: battle.question_id,
    modelLeft: battle.model_a,
    modelRight: battle.model_b,
    choice: CHOICE_OF[battle.winner],
    excluded: battle.arena_excluded === true || battle.anony === false,
    judge: battle.judge,
    tstamp: Math.round(battle.tstamp * 1000),
  };
}

/** Parses a JSONL battle file; bad lines are reported (1-based line numbers), not fatal. */
export function parseBattleFile(text: string): { votes: VoteRecord[]; errors: { line: number; message: string }[] } {
  const votes: VoteRecord[] = [];
  const errors: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() === '') return;
    try {
      votes.push(fromFastChatBattle(JSON.parse(content)));
    } catch (error) {
      errors.push({ line: index + 1, message: describeLineError(error) });
    }
  });
  return { votes, errors };
}

function describeLineError(error: unknown): string {
  if (error instanceof InvalidBattleError) return error.message;
  if (error instanceof SyntaxError) return `invalid JSON: ${error.message}`;
  throw error;
}

function voteOf(battle: BattleRecord): NonNullable<BattleRecord['vote']> {
  if (!battle.vote) throw new Error(`battle ${battle.id} has no vote and cannot be exported`);
  return battle.vote;
}

function conversationOf(battle: BattleRecord, side: Side): ChatMessage[] {
  const system: ChatMessage[] = battle.systemPrompt ? [{ role: 'system', content: battle.systemPrompt }] : [];
  return system.concat(
    battle.turns.flatMap((turn): ChatMessage[] => [
      { role: 'user', content: turn.prompt },
      { role: 'assistant', content: turn.answers[side].text },
    ]),
  );
}
