import type { BattleRecord, Side } from '../store/types.js';
import { categorizePrompts, type BattleCategories } from './categories.js';
import { addStyle, emptyStyle, markdownCounts, type AnswerStyle, type ConvMetadata } from './style.js';
import { tokenCounter } from './tokens.js';

/** "Next >" and tournaments run one prompt on battle after battle: it is categorized once. */
const RECENT_PROMPTS = 256;
const recent = new Map<string, BattleCategories>();

/** Categories of a battle from its first prompt, as it starts (a copy: the record owns it). */
export async function categorizeStart(prompt: string): Promise<BattleCategories> {
  let categories = recent.get(prompt);
  if (!categories) {
    const count = await tokenCounter();
    categories = categorizePrompts([prompt], count(prompt));
    if (recent.size >= RECENT_PROMPTS) recent.delete(recent.keys().next().value!);
    recent.set(prompt, categories);
  }
  return structuredClone(categories);
}

/**
 * What is stored with a vote: the categories over every turn (a second prompt makes it
 * multi-turn) and the settled answers' style features in FastChat's conv_metadata shape.
 */
export async function classifyVotedBattle(battle: BattleRecord): Promise<{ categories: BattleCategories; style: ConvMetadata }> {
  const count = await tokenCounter();
  const prompts = battle.turns.map((turn) => turn.prompt);
  const userTokens = prompts.reduce((total, prompt) => total + count(prompt), 0);
  const styleOf = (side: Side): AnswerStyle =>
    battle.turns.reduce((total, turn) => {
      const text = turn.answers[side].text;
      return addStyle(total, { tokens: count(text), ...markdownCounts(text) });
    }, emptyStyle());
  const a = styleOf('left');
  const b = styleOf('right');
  return {
    categories: categorizePrompts(prompts, userTokens),
    style: {
      sum_user_tokens: userTokens,
      sum_assistant_a_tokens: a.tokens,
      sum_assistant_b_tokens: b.tokens,
      context_a_tokens: userTokens + a.tokens,
      context_b_tokens: userTokens + b.tokens,
      turns: battle.turns.length,
      header_count_a: a.header,
      list_count_a: a.list,
      bold_count_a: a.bold,
      header_count_b: b.header,
      list_count_b: b.list,
      bold_count_b: b.bold,
    },
  };
}
