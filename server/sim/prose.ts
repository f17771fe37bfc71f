import type { Rng } from './random.js';
import {
  ADJECTIVES,
  CODE_LANGUAGES,
  DETERMINERS,
  NOUNS,
  PREPOSITIONS,
  REASONING_OPENERS,
  VERBS,
} from './vocabulary.js';

/** A token is a word plus the whitespace after it; joining the tokens gives the text back. */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function nounPhrase(rng: Rng): string[] {
  const words: string[] = [rng.pick(DETERMINERS)];
  if (rng.chance(0.5)) words.push(rng.pick(ADJECTIVES));
  words.push(rng.pick(NOUNS));
  if (words[0] === 'a' && /^[aeiou]/.test(words[1]!)) words[0] = 'an';
  return words;
}

function sentence(rng: Rng): string {
  const words = [...nounPhrase(rng), rng.pick(VERBS), ...nounPhrase(rng)];
  if (rng.chance(0.5)) words.push(rng.pick(PREPOSITIONS), ...nounPhrase(rng));
  if (rng.chance(0.15)) words[words.length - 1] = `**${words[words.length - 1]}**`;
  words[0] = capitalize(words[0]!);
  return `${words.join(' ')}.`;
}

function paragraph(rng: Rng): string {
  return Array.from({ length: rng.int(1, 3) }, () => sentence(rng)).join(' ');
}

function bulletList(rng: Rng): string {
  const item = () => `- ${capitalize(rng.pick(ADJECTIVES))} ${rng.pick(NOUNS)} ${rng.pick(VERBS)} ${rng.pick(NOUNS)}`;
  return Array.from({ length: rng.int(2, 4) }, item).join('\n');
}

function codeBlock(rng: Rng): string {
  const line = () => `${rng.pick(NOUNS)} = ${rng.pick(VERBS)}(${rng.pick(NOUNS)})`;
  const body = Array.from({ length: rng.int(1, 3) }, line).join('\n');
  return `\`\`\`${rng.pick(CODE_LANGUAGES)}\n${body}\n\`\`\``;
}

function block(rng: Rng): string {
  const roll = rng.next();
  if (roll < 0.12) return bulletList(rng);
  if (roll < 0.2) return codeBlock(rng);
  return paragraph(rng);
}

/** Cuts a block that alone exceeds the budget, keeping it a sentence. */
function truncateToSentence(text: string, budget: number): string {
  const kept = tokenize(text).slice(0, Math.max(1, budget)).join('').trimEnd();
  return /[.!?]$/.test(kept) ? kept : `${kept.replace(/[^\w*]+$/, '')}.`;
}

/**
 * Markdown-ish prose of at most `budget` tokens: paragraphs, now and then a list or a code block.
 * No trailing whitespace, so a caller can append to it or compare it exactly.
 */
export function composeProse(rng: Rng, budget: number): string {
  const target = rng.int(Math.ceil(budget / 2), Math.max(1, budget));
  const first = paragraph(rng);
  if (tokenize(first).length > target) return truncateToSentence(first, target);
  let text = first;
  for (;;) {
    const candidate = `${text}\n\n${block(rng)}`;
    if (tokenize(candidate).length > target) return text;
    text = candidate;
  }
}

/** The short chain of thought a 'thinking' model emits before answering. */
export function composeReasoning(rng: Rng): string {
  const opener = rng.pick(REASONING_OPENERS);
  return `${opener} ${sentence(rng)} ${sentence(rng)}`;
}

/** One closing sentence, used after tool results. */
export function composeSentence(rng: Rng): string {
  return sentence(rng);
}
