import { HARD_PROMPT_THRESHOLD, type HardPromptCriteria } from '../classify/hard-prompt.js';
import { languageName } from '../classify/language.js';
import { LONG_PROMPT_TOKENS, TOPIC_CATEGORIES, type BattleCategories } from '../classify/categories.js';
import type { ConvMetadata } from '../classify/style.js';

/**
 * Categories in FastChat's battle fields (`language`, `is_code`, `category_tag`) and back. Arena
 * also writes `arena_categories`, its own board ids, so an export imports back losslessly.
 */

export interface FastChatCategoryFields {
  language: string;
  is_code?: boolean;
  category_tag?: Record<string, Record<string, boolean | number | string>>;
  arena_categories?: string[];
}

/** From a battle's full categorisation (Arena's own battles). */
export function categoryFields(categories: BattleCategories | undefined, boards: string[] | undefined): FastChatCategoryFields {
  if (!categories) return boards ? fromBoards(boards) : { language: 'unknown' };
  const has = (topic: string) => categories.topics.includes(topic as never);
  return {
    language: languageName(categories.language),
    is_code: has('coding'),
    category_tag: {
      'criteria_v0.1': { ...categories.criteria },
      'if_v0.1': { if: has('instruction_following'), score: categories.ifScore },
      'math_v0.1': { math: has('math') },
      'creative_writing_v0.1': { creative_writing: has('creative_writing'), score: has('creative_writing') ? 'yes' : 'no' },
    },
    arena_categories: boards ?? [],
  };
}

/** From board ids alone (an imported vote): the flags they imply, no per-criterion detail. */
function fromBoards(boards: string[]): FastChatCategoryFields {
  const language = boards.find((id) => id.startsWith('lang:'));
  const has = (topic: string) => boards.includes(topic);
  return {
    language: language ? languageName(language.slice(5)) : 'unknown',
    is_code: has('coding'),
    category_tag: {
      'if_v0.1': { if: has('instruction_following') },
      'math_v0.1': { math: has('math') },
      'creative_writing_v0.1': { creative_writing: has('creative_writing'), score: has('creative_writing') ? 'yes' : 'no' },
    },
    arena_categories: boards,
  };
}

/** Languages FastChat dumps name most often, by ISO 639-3 code as franc reports them. */
const KNOWN_LANGUAGES = ['eng', 'cmn', 'rus', 'deu', 'jpn', 'spa', 'fra', 'kor', 'por', 'ita', 'pol', 'vie', 'arb', 'tur', 'nld', 'ind', 'ukr', 'pes', 'hin', 'ces', 'swe', 'heb', 'tha'];
const CODE_OF_NAME = new Map(KNOWN_LANGUAGES.map((code) => [languageName(code).toLowerCase(), code]));

export interface ImportedCategorySource {
  language?: unknown;
  is_code?: unknown;
  turn?: unknown;
  category_tag?: unknown;
  arena_categories?: unknown;
}

/** Board ids for an imported line: Arena's own list when present, else derived from FastChat's tags. */
export function boardsFromFastChat(line: ImportedCategorySource, style: ConvMetadata | undefined): string[] | undefined {
  if (Array.isArray(line.arena_categories) && line.arena_categories.every((id) => typeof id === 'string')) {
    return line.arena_categories as string[];
  }
  const tag = (typeof line.category_tag === 'object' && line.category_tag !== null ? line.category_tag : {}) as Record<string, Record<string, unknown>>;
  const boards: string[] = [];
  const criteria = tag['criteria_v0.1'] as Partial<HardPromptCriteria> | undefined;
  const flags: Record<(typeof TOPIC_CATEGORIES)[number], boolean> = {
    coding: line.is_code === true,
    math: tag['math_v0.1']?.math === true,
    creative_writing: tag['creative_writing_v0.1']?.creative_writing === true,
    instruction_following: tag['if_v0.1']?.if === true,
    hard_prompt: criteria !== undefined && Object.values(criteria).filter((v) => v === true).length >= HARD_PROMPT_THRESHOLD,
    long_prompt: (style?.sum_user_tokens ?? 0) > LONG_PROMPT_TOKENS,
    multi_turn: typeof line.turn === 'number' && line.turn > 1,
  };
  for (const topic of TOPIC_CATEGORIES) if (flags[topic]) boards.push(topic);
  const code = typeof line.language === 'string' ? CODE_OF_NAME.get(line.language.toLowerCase()) : undefined;
  if (code) boards.push(`lang:${code}`);
  return boards.length > 0 || line.category_tag !== undefined ? boards : undefined;
}
