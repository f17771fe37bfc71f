import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ConvMetadata } from '../classify/style.js';
import type { BattleRecord, Side, VoteChoice, VoteRecord } from '../store/types.js';
import { promptHash, voteRecordFor } from '../store/vote-record.js';
import { boardsFromFastChat, categoryFields, type FastChatCategoryFields } from './fastchat-tags.js';

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

export interface FastChatBattle extends FastChatCategoryFields {
  question_id: string;
  model_a: string;
  model_b: string;
  winner: FastChatWinner;
  judge: string;
  conversation_a: ChatMessage[];
  conversation_b: ChatMessage[];
  turn: number;
  anony: true;
  /** Epoch seconds, as FastChat writes it. */
  tstamp: number;
  /** Arena extension: a side leaked its identity, so the vote is kept but not rated. */
  arena_excluded: boolean;
  /** Style features for FastChat's style control; absent when the vote has none. */
  conv_metadata?: ConvMetadata;
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
  return toFastChatLine(voteRecordFor(battle, vote.choice, vote.at), battle);
}

/**
 * One exported line per stored vote, as the board counts it: the stored vote decides the outcome;
 * the battle, when there is one (imported votes have none), adds the conversations.
 */
export function toFastChatLine(record: VoteRecord, battle: BattleRecord | null): FastChatBattle {
  return {
    question_id: record.battleId,
    model_a: record.modelLeft,
    model_b: record.modelRight,
    winner: WINNER_OF[record.choice],
    judge: record.judge,
    conversation_a: battle ? conversationOf(battle, 'left') : [],
    conversation_b: battle ? conversationOf(battle, 'right') : [],
    turn: battle?.turns.length ?? record.style?.turns ?? 1,
    anony: true,
    tstamp: record.tstamp / 1000,
    arena_excluded: record.excluded,
    ...categoryFields(battle?.categories, record.categories),
    ...(record.style && { conv_metadata: record.style }),
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

const counts = <K extends string>(keys: readonly K[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int().nonnegative()])) as Record<K, z.ZodNumber>);
const ConvMetadataSchema = z.object({
  sum_user_tokens: z.number().nonnegative().default(0),
  sum_assistant_a_tokens: z.number().nonnegative(),
  sum_assistant_b_tokens: z.number().nonnegative(),
  context_a_tokens: z.number().nonnegative().default(0),
  context_b_tokens: z.number().nonnegative().default(0),
  turns: z.number().int().nonnegative().default(1),
  header_count_a: counts(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']),
  list_count_a: counts(['ordered', 'unordered']),
  bold_count_a: counts(['**', '__']),
  header_count_b: counts(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']),
  list_count_b: counts(['ordered', 'unordered']),
  bold_count_b: counts(['**', '__']),
});

const FastChatLineSchema = z.object({
  /** Many minimal FastChat-style files have none: a stable id is derived from the content. */
  question_id: z.string().min(1).optional(),
  model_a: z.string().min(1),
  model_b: z.string().min(1),
  winner: z.enum(['model_a', 'model_b', 'tie', 'tie (bothbad)']),
  judge: z.string(),
  tstamp: z.number().nonnegative(),
  anony: z.boolean().optional(),
  arena_excluded: z.boolean().optional(),
  conv_metadata: ConvMetadataSchema.optional(),
  turn: z.number().int().nonnegative().optional(),
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
  const style = battle.conv_metadata;
  const categories = boardsFromFastChat(line as Record<string, unknown>, style);
  const firstPrompt = firstUserMessage((line as { conversation_a?: unknown }).conversation_a);
  return {
    battleId: battle.question_id ?? derivedQuestionId(line as Record<string, unknown>),
    modelLeft: battle.model_a,
    modelRight: battle.model_b,
    choice: CHOICE_OF[battle.winner],
    excluded: battle.arena_excluded === true || battle.anony === false,
    judge: battle.judge,
    tstamp: Math.round(battle.tstamp * 1000),
    ...(categories && { categories }),
    ...(style && { style }),
    ...(firstPrompt !== undefined && { promptHash: promptHash(firstPrompt) }),
  };
}

function firstUserMessage(conversation: unknown): string | undefined {
  if (!Array.isArray(conversation)) return undefined;
  const message = conversation.find((m) => typeof m === 'object' && m !== null && (m as ChatMessage).role === 'user') as ChatMessage | undefined;
  return typeof message?.content === 'string' ? message.content : undefined;
}

/**
 * A stable id for a line without `question_id`: a hash of its content fields (key order does not
 * matter), so importing the same file twice adds nothing the second time.
 */
export function derivedQuestionId(line: Record<string, unknown>): string {
  return `fc-${createHash('sha256').update(canonicalJson(line)).digest('hex').slice(0, 32)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
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

export function describeLineError(error: unknown): string {
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
