/**
 * Style features of an answer, counted as FastChat counts them for style control
 * (fastchat/serve/monitor/elo_analysis.py and its conv_metadata producer): markdown headers by
 * level, list items (ordered / unordered) and bold spans (`**` / `__`), outside code blocks;
 * tokens with the cl100k_base tokenizer (tiktoken's gpt-3.5-turbo encoding), for every model alike.
 */

export interface HeaderCount {
  h1: number;
  h2: number;
  h3: number;
  h4: number;
  h5: number;
  h6: number;
}
export interface ListCount {
  ordered: number;
  unordered: number;
}
export interface BoldCount {
  '**': number;
  __: number;
}

export interface AnswerStyle {
  tokens: number;
  header: HeaderCount;
  list: ListCount;
  bold: BoldCount;
}

/** FastChat's `conv_metadata` of a battle. */
export interface ConvMetadata {
  sum_user_tokens: number;
  sum_assistant_a_tokens: number;
  sum_assistant_b_tokens: number;
  context_a_tokens: number;
  context_b_tokens: number;
  turns: number;
  header_count_a: HeaderCount;
  list_count_a: ListCount;
  bold_count_a: BoldCount;
  header_count_b: HeaderCount;
  list_count_b: ListCount;
  bold_count_b: BoldCount;
}

const CODE_BLOCK = /```[^`]*```/g;
const HEADER = /^(#{1,6})\s/gm;
const ORDERED_ITEM = /^\s*\d+\.\s/gm;
const UNORDERED_ITEM = /^\s*[-*+]\s/gm;
const BOLD_STARS = /\*\*[^*\n]+\*\*/g;
const BOLD_UNDERSCORES = /__[^_\n]+__/g;

/** Markdown elements of one text (tokens excluded). */
export function markdownCounts(text: string): Omit<AnswerStyle, 'tokens'> {
  const prose = text.replace(CODE_BLOCK, '');
  const header: HeaderCount = { h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0 };
  for (const match of prose.matchAll(HEADER)) header[`h${match[1].length}` as keyof HeaderCount] += 1;
  return {
    header,
    list: { ordered: count(prose, ORDERED_ITEM), unordered: count(prose, UNORDERED_ITEM) },
    bold: { '**': count(prose, BOLD_STARS), __: count(prose, BOLD_UNDERSCORES) },
  };
}

export function addStyle(a: AnswerStyle, b: AnswerStyle): AnswerStyle {
  const sum = <T extends object>(x: T, y: T): T =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, (v as number) + (y[k as keyof T] as number)])) as T;
  return { tokens: a.tokens + b.tokens, header: sum(a.header, b.header), list: sum(a.list, b.list), bold: sum(a.bold, b.bold) };
}

export function emptyStyle(): AnswerStyle {
  return { tokens: 0, ...markdownCounts('') };
}

/** The four style-control features of one side: tokens, headers, list items, bold spans. */
export function styleVector(meta: ConvMetadata, side: 'a' | 'b'): [number, number, number, number] {
  const total = (counts: object) => Object.values(counts).reduce((s: number, v) => s + (v as number), 0);
  return [
    side === 'a' ? meta.sum_assistant_a_tokens : meta.sum_assistant_b_tokens,
    total(side === 'a' ? meta.header_count_a : meta.header_count_b),
    total(side === 'a' ? meta.list_count_a : meta.list_count_b),
    total(side === 'a' ? meta.bold_count_a : meta.bold_count_b),
  ];
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
