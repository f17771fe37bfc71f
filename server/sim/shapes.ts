/**
 * Demo answers shaped like real ones: the prompt decides the form (code, a comparison table,
 * steps, a formula, an overview), the model's seeded rng the wording, so two demo models answer
 * the same prompt differently and each always the same way. Plain markdown, cut at block
 * boundaries to the model's token budget.
 */
import { tokenize } from './prose.js';
import type { Rng } from './random.js';

export type Shape = 'code' | 'compare' | 'steps' | 'math' | 'overview';

const SHAPE_CUES: [Shape, RegExp][] = [
  ['code', /\b(code|function|program|script|implement|python|javascript|typescript|rust|golang|bash|regex|sql|class|algorithm)\b/i],
  ['compare', /\b(compare|comparison|versus|vs\.?|difference|differences|better|table|pros and cons)\b/i],
  ['math', /\b(formula|equation|prove|proof|integral|derivative|sum|probability|theorem|math)\b|[=^]/i],
  ['steps', /\b(how|steps|guide|install|set up|setup|make|build|why)\b/i],
];

export function shapeOf(prompt: string): Shape {
  return SHAPE_CUES.find(([, cue]) => cue.test(prompt))?.[0] ?? 'overview';
}

const STOP_WORDS = new Set(
  'what which when where does about there their with from that this have into your some than then them they will would could should explain write give show tell make need want please between compare comparison versus better difference differences table code function program script using with python javascript typescript bash shell list name'.split(' '),
);
/** Vendor and family names never appear in a demo answer: they would trip the identity-leak check. */
const VENDOR_WORDS = /llama|meta|qwen|alibaba|tongyi|mistral|mixtral|gemma|gemini|google|deepmind|openai|chatgpt|gpt|claude|anthropic|phi|microsoft|deepseek|cohere|granite|ibm/i;

/** Up to three content words of the prompt, in order: what the answer is about. */
export function topicWords(prompt: string): string[] {
  const words = (prompt.toLowerCase().match(/\p{L}{4,}/gu) ?? []).filter((w) => !STOP_WORDS.has(w) && !VENDOR_WORDS.test(w));
  return [...new Set(words)].slice(0, 3);
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** `count` different items, in a seeded order. */
function pickDistinct<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const pool = [...items];
  return Array.from({ length: Math.min(count, pool.length) }, () => pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
}

function overview(rng: Rng, topic: string, words: string[]): string[] {
  const points = [
    'what it is and where it shows up',
    'the part most people notice first',
    'how it changes as things grow',
    'the usual mistakes, and how to avoid them',
    'why it matters in practice',
  ];
  const labels = words.length >= 2 ? words : ['Basics', 'In practice', 'Pitfalls'];
  const said = pickDistinct(rng, points, labels.length);
  return [
    rng.pick([`Here is a short overview of ${topic}.`, 'Good question: it comes down to a few ideas.', 'It is easiest to follow in parts.']),
    labels.map((label, i) => `- **${capitalize(label)}**: ${said[i]}`).join('\n'),
    rng.pick(['In short: start simple, then refine.', 'Happy to go deeper on any of these.', 'That covers the essentials.']),
  ];
}

function steps(rng: Rng, _topic: string, words: string[]): string[] {
  const subject = words[0] ?? 'it';
  const pool = [
    `Start from what you know about ${subject}.`,
    `Look at what drives ${subject}, one factor at a time.`,
    'Check the result against a small, concrete example.',
    'Adjust and repeat until the result holds.',
    `Write down why each step matters for ${subject}.`,
  ];
  const count = rng.int(3, 4);
  const first = rng.int(0, pool.length - count);
  return [
    rng.pick(['Here is the short version, step by step:', 'Think of it as a short sequence:']),
    pool.slice(first, first + count).map((step, i) => `${i + 1}. ${step}`).join('\n'),
    rng.pick(['Each step builds on the one before.', 'The second step is where most of the work is.']),
  ];
}

function compare(rng: Rng, _topic: string, words: string[], prompt: string): string[] {
  const pair = /(\p{L}[\p{L}-]{1,20})\s+(?:vs\.?|versus|or|and)\s+(\p{L}[\p{L}-]{1,20}(?:\s+\p{L}[\p{L}-]{1,20})?)/iu.exec(prompt);
  const [a, b] = pair && !VENDOR_WORDS.test(pair[0]) ? [pair[1]!, pair[2]!] : [words[0] ?? 'Option A', words[1] ?? 'Option B'];
  const rows = [
    ['Speed', 'fast', 'slower'],
    ['Memory', 'low', 'higher'],
    ['Ease of use', 'simple', 'more setup'],
    ['Best for', 'small jobs', 'large jobs'],
  ].map((row) => (rng.chance(0.5) ? row : [row[0], row[2], row[1]]));
  return [
    rng.pick([`A quick comparison of ${a} and ${b}:`, `${capitalize(a)} and ${b} differ mostly in cost and effort:`]),
    [`| Aspect | ${capitalize(a)} | ${capitalize(b)} |`, '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'),
    `Pick whichever wins on the row that matters most to you.`,
  ];
}

function code(rng: Rng, _topic: string, words: string[], prompt: string): string[] {
  const name = (words[0] ?? 'process').replace(/[^a-z]/g, '') || 'process';
  const language = /javascript|\bjs\b|node/i.test(prompt) ? 'js' : /typescript|\bts\b/i.test(prompt) ? 'ts' : /bash|shell/i.test(prompt) ? 'sh' : 'python';
  const body: Record<string, string> = {
    python: `def ${name}(items):\n    """Keep the items worth keeping, in order."""\n    return [item for item in items if item]`,
    js: `function ${name}(items) {\n  // Keep the items worth keeping, in order.\n  return items.filter(Boolean);\n}`,
    ts: `export function ${name}<T>(items: T[]): T[] {\n  // Keep the items worth keeping, in order.\n  return items.filter(Boolean);\n}`,
    sh: `# ${name}: print the non-empty lines\ngrep -v '^$' input.txt`,
  };
  return [
    rng.pick([`Here is a small ${language === 'sh' ? 'shell' : language} example:`, 'A minimal version:']),
    `\`\`\`${language}\n${body[language]}\n\`\`\``,
    rng.pick(['It runs in linear time, one pass over the input.', 'Adapt the condition to what "worth keeping" means for you.']),
  ];
}

function math(rng: Rng, prompt: string): string[] {
  const formulas = [
    ['\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}', 'The sum grows roughly like $n^2/2$.'],
    ['a^2 + b^2 = c^2', 'It holds for every right triangle with hypotenuse $c$.'],
    ['\\int_0^1 x^2 \\, dx = \\frac{1}{3}', 'That is the area under $x^2$ between 0 and 1.'],
  ] as const;
  // The prompt's own subject first (a sum, a triangle, an area), else any of them.
  const cue = [/\bsum\b|series|1 to n/i, /triangle|pythag/i, /integral|area/i].findIndex((re) => re.test(prompt));
  const [formula, note] = cue >= 0 ? formulas[cue]! : rng.pick(formulas);
  return [rng.pick(['The standard result is:', 'Here is the formula:']), `$$\n${formula}\n$$`, note];
}

/** Markdown of at most `budget` tokens, whole blocks only (the first is cut to fit if it must be). */
export function composeAnswer(rng: Rng, prompt: string, budget: number): string {
  const words = topicWords(prompt);
  const topic = words.length > 0 ? words.join(' ') : 'this';
  const shape = shapeOf(prompt);
  const blocks =
    shape === 'code' ? code(rng, topic, words, prompt)
    : shape === 'compare' ? compare(rng, topic, words, prompt)
    : shape === 'math' ? math(rng, prompt)
    : shape === 'steps' ? steps(rng, topic, words)
    : overview(rng, topic, words);
  let text = '';
  for (const block of blocks) {
    const candidate = text ? `${text}\n\n${block}` : block;
    if (tokenize(candidate).length > budget) break;
    text = candidate;
  }
  return text || tokenize(blocks[0]!).slice(0, Math.max(1, budget)).join('').trimEnd();
}
