/**
 * Identity-leak detection: an answer that names its own model or vendor makes the vote
 * unusable for ratings (the judge was no longer blind).
 */

/** Vendor/family words by family prefix of a model id; config `leakWords` overrides. */
const FAMILY_WORDS: [RegExp, string[]][] = [
  [/llama|meta/i, ['llama', 'meta ai', 'meta']],
  [/qwen/i, ['qwen', 'alibaba', 'tongyi']],
  [/mistral|mixtral|ministral/i, ['mistral', 'mixtral']],
  [/gemma|gemini/i, ['gemma', 'gemini', 'google', 'deepmind']],
  [/gpt|^o\d|openai/i, ['openai', 'chatgpt', 'gpt']],
  [/claude/i, ['claude', 'anthropic']],
  [/phi/i, ['phi', 'microsoft']],
  [/deepseek/i, ['deepseek']],
  [/command|cohere/i, ['cohere', 'command r']],
  [/granite/i, ['granite', 'ibm']],
];

/** Name parts that say nothing about who made a model. */
const GENERIC = new Set(['instruct', 'chat', 'base', 'model', 'preview', 'latest', 'turbo', 'mini', 'small', 'medium', 'large', 'awq', 'gguf', 'gptq']);

export function defaultLeakWords(modelId: string): string[] {
  const words = new Set<string>();
  for (const [pattern, list] of FAMILY_WORDS) if (pattern.test(modelId)) list.forEach((w) => words.add(w));
  // The model's own name stems always count: "llama" from "llama3.1:8b", "qwen" from "Qwen/Qwen2.5-7B".
  const name = modelId.split('/').at(-1)!.split(':')[0];
  for (const stem of name.toLowerCase().match(/\p{L}{3,}/gu) ?? []) if (!GENERIC.has(stem)) words.add(stem);
  return [...words];
}

/** Incremental matcher: feed deltas, learn once whether a leak word appeared on a word boundary. */
export class LeakDetector {
  private readonly pattern: RegExp | null;
  private readonly window: number;
  private tail = '';

  constructor(words: string[]) {
    const escaped = words.filter((w) => w.trim()).map((w) => w.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = escaped.length ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join('|')})(?![\\p{L}])`, 'iu') : null;
    this.window = Math.max(0, ...words.map((w) => w.length)) + 1;
  }

  /** Returns true when the text seen so far (this delta included) contains a leak word. */
  feed(delta: string): boolean {
    if (!this.pattern) return false;
    const haystack = this.tail + delta;
    this.tail = haystack.slice(-this.window);
    return this.pattern.test(haystack);
  }
}
