import type { Provider } from '../providers/types.js';
import type { LayerVerdict } from './types.js';

/**
 * Asks a configured model to classify the prompt with one word. Strict on purpose: anything but
 * "tools" or "arena" (case and punctuation aside), an error, or silence past the deadline makes
 * the layer abstain, so a chatty or slow model can never route a prompt by accident.
 */

export interface LlmRouterOptions {
  provider: Provider;
  model: string;
  timeoutMs: number;
}

/** The model gives no probability; this is how much its one word is trusted. */
const LLM_CONFIDENCE = 0.75;
/** Long prompts are cut: the gist is at the start, and the classifier call must stay cheap. */
const MAX_PROMPT_CHARS = 2_000;

/** The routing prompt, documented in docs/router.md: same targets as the classifier, arena when unsure. */
export const ROUTING_INSTRUCTIONS =
  'You route chat prompts for an arena. Reply with exactly one word: TOOLS or ARENA.\n' +
  'TOOLS: a correct answer needs exact computation on numbers the prompt gives (arithmetic, percentages, statistics), ' +
  'the current date or time, date arithmetic (days between dates, the weekday of a date, when a holiday falls), ' +
  'a unit or currency conversion, live data (weather, prices), or an action (timer, reminder).\n' +
  'ARENA: everything else (writing, rewriting, translating, summarising, explaining, advice, coding, general knowledge), ' +
  'even when the prompt contains numbers, dates or units.\n' +
  'The prompt may be in any language. When unsure, answer ARENA.';

export function createLlmLayer(opts: LlmRouterOptions): (prompt: string) => Promise<LayerVerdict> {
  return async (prompt) => {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const deadline = { connectMs: opts.timeoutMs, firstTokenMs: opts.timeoutMs, idleMs: opts.timeoutMs };
    let answer = '';
    for await (const part of opts.provider.stream({
      model: opts.model,
      messages: [
        { role: 'system', content: ROUTING_INSTRUCTIONS },
        { role: 'user', content: `Prompt:\n"""\n${prompt.slice(0, MAX_PROMPT_CHARS)}\n"""\nTOOLS or ARENA?` },
      ],
      maxTokens: 5,
      temperature: 0,
      signal,
      timeouts: deadline,
    })) {
      if (part.type === 'text') answer += part.text;
      if (part.type === 'error') {
        const why = signal.aborted ? `no answer within ${opts.timeoutMs} ms` : `${part.error.code}: ${part.error.message}`;
        return abstain(`LLM ${opts.model} failed (${why})`);
      }
    }
    const word = answer.trim().toLowerCase().replace(/^[^a-z]+|[^a-z]+$/g, '');
    if (word !== 'tools' && word !== 'arena') return abstain(`LLM ${opts.model} answered "${answer.trim().slice(0, 40)}", not TOOLS or ARENA`);
    return { route: word, layer: 'llm', reason: `LLM ${opts.model} answered ${word.toUpperCase()}`, confidence: LLM_CONFIDENCE };
  };
}

function abstain(reason: string): LayerVerdict {
  return { abstain: true, layer: 'llm', reason };
}
