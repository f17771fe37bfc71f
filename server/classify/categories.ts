import { hardPromptCriteria, isHardPrompt, type HardPromptCriteria } from './hard-prompt.js';
import { detectLanguage } from './language.js';

/**
 * Categories of a battle, from the user's prompts only (never the answers, which differ by side):
 * each is a leaderboard of its own. Rules are explicit so anyone can reproduce a board; they are
 * listed in docs/ratings.md.
 */

export const TOPIC_CATEGORIES = [
  'coding',
  'math',
  'creative_writing',
  'instruction_following',
  'hard_prompt',
  'long_prompt',
  'multi_turn',
] as const;
export type TopicCategory = (typeof TOPIC_CATEGORIES)[number];

/** A board id: "overall", a topic, or "lang:<ISO 639-3>". */
export type CategoryId = string;
export const OVERALL = 'overall';

export interface BattleCategories {
  /** ISO 639-3 code of the first prompt, "und" when undetermined. */
  language: string;
  topics: TopicCategory[];
  criteria: HardPromptCriteria;
  /** Number of explicit constraints counted for instruction following (FastChat's if score, 0-5). */
  ifScore: number;
}

/** FastChat's "longer query" board: over 500 user tokens. */
export const LONG_PROMPT_TOKENS = 500;
/** Instruction following needs at least this many explicit constraints (FastChat: score ≥ 4 of 5). */
const IF_MIN_CONSTRAINTS = 2;

const CODE =
  /```|\b(code|function|class|method|compile[rd]?|bug|stack ?trace|regex|sql|python|javascript|typescript|java|golang|rust|c\+\+|c#|bash|html|css|api|json|yaml|dockerfile|git)\b|\b(def|fn|func|const|let|var|import|return)\s+\w+[^\n]{0,120}?[({=:]/i;
const MATH =
  /\\(frac|int|sum|sqrt|cdot)|\$[^$]+\$|\b(solve|equation|integral|derivative|probability|theorem|prove|calculate|arithmetic|algebra|geometry|matrix|prime|factorial|percent(age)?)\b|\d+\s*[-+*/^×÷=]\s*\d+/i;
const CREATIVE =
  /\b(write|compose|create|draft|tell)\b[^.?!\n]{0,60}\b(story|poem|haiku|sonnet|song|lyrics|limerick|screenplay|script|fable|fairy tale|novel|dialogue|joke|rap|verse)\b|\b(once upon a time|role-?play|fiction)\b/i;
const CONSTRAINTS = [
  /\b(in|within|under|at most|no more than|exactly|at least)\s+\d+\s+(words?|sentences?|paragraphs?|lines?|bullets?|items?|characters?)\b/i,
  /\b(do not|don't|never|avoid|without)\s+(use|using|mention|include|write)\b/i,
  /\b(format|formatted|as a|in)\s+(json|yaml|a table|markdown|csv|bullet points?|a list|numbered list)\b/i,
  /\b(must|should|only)\s+(include|contain|use|start|end|be)\b/i,
  /\b(all (caps|lowercase|uppercase)|start with|end with|begin with|wrap(ped)? in|in the style of|tone)\b/i,
];

export function categorizePrompts(prompts: readonly string[], userTokens: number): BattleCategories {
  const all = prompts.join('\n\n');
  const criteria = hardPromptCriteria(all);
  const ifScore = CONSTRAINTS.filter((pattern) => pattern.test(all)).length;
  const topics: TopicCategory[] = [];
  if (CODE.test(all)) topics.push('coding');
  if (MATH.test(all)) topics.push('math');
  if (CREATIVE.test(all)) topics.push('creative_writing');
  if (ifScore >= IF_MIN_CONSTRAINTS) topics.push('instruction_following');
  if (isHardPrompt(criteria)) topics.push('hard_prompt');
  if (userTokens > LONG_PROMPT_TOKENS) topics.push('long_prompt');
  if (prompts.length > 1) topics.push('multi_turn');
  return { language: detectLanguage(prompts[0] ?? ''), topics, criteria, ifScore };
}

/** The board ids a vote counts on (besides "overall"). */
export function boardIds(categories: Pick<BattleCategories, 'language' | 'topics'>): CategoryId[] {
  return [...categories.topics, `lang:${categories.language}`];
}

export function categoryLabel(id: CategoryId, languageName: (code: string) => string): string {
  if (id === OVERALL) return 'Overall';
  if (id.startsWith('lang:')) return `Language: ${languageName(id.slice(5))}`;
  const label = id.replace(/_/g, ' ');
  return label[0].toUpperCase() + label.slice(1);
}
