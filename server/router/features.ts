/**
 * What the classifier sees of a prompt: lower-case words plus placeholders for what matters more
 * than the exact characters (<num>, <year>, <op>, <pct>, <cur>), as unigrams, bigrams and the
 * opening word pair. Training and inference share this, so a change here means retraining.
 */

const TOKEN = /\d+(?:[.,]\d+)*|[a-z]+|[%$£€¥+*/^×÷=°-]/g;
const YEAR = /^(?:1[0-9]|20)\d\d$/;
const NUMBER = /^\d/;
const ALWAYS_OPERATORS = new Set(['+', '*', '^', '×', '÷', '=']);
/** Dashes and slashes are operators only between two numbers; elsewhere they are ranges, dates or units. */
const BETWEEN_NUMBERS = new Set(['-', '/']);
const CURRENCY = new Set(['$', '£', '€', '¥']);

function placeholder(token: string, previous: string | undefined, next: string | undefined): string | undefined {
  if (NUMBER.test(token)) return YEAR.test(token) ? '<year>' : '<num>';
  if (ALWAYS_OPERATORS.has(token)) return '<op>';
  if (BETWEEN_NUMBERS.has(token)) return previous && next && NUMBER.test(previous) && NUMBER.test(next) ? '<op>' : undefined;
  if (token === '%') return '<pct>';
  if (CURRENCY.has(token)) return '<cur>';
  if (token === '°') return 'degrees';
  return token;
}

export function tokenize(prompt: string): string[] {
  const raw = prompt.toLowerCase().replace(/['’]/g, '').match(TOKEN) ?? [];
  return raw.flatMap((token, i) => placeholder(token, raw[i - 1], raw[i + 1]) ?? []);
}

/** Distinct features of a prompt. */
export function promptFeatures(prompt: string): string[] {
  const tokens = tokenize(prompt);
  const features = new Set<string>(tokens);
  for (let i = 1; i < tokens.length; i++) features.add(`${tokens[i - 1]} ${tokens[i]}`);
  if (tokens.length > 0) features.add(`^ ${tokens[0]}`);
  if (tokens.length > 1) features.add(`^ ${tokens[0]} ${tokens[1]}`);
  return [...features];
}
