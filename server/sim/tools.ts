import { hexId } from './random.js';

export interface SimToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /** The arguments as the model "wrote" them: valid JSON unless the prompt asked for [[badargs]]. */
  argumentsJson: string;
}

/** `[[tool:NAME {json}]]`; the lazy object runs up to the first `}` followed by `]]`, so nested objects work. */
const TOOL_DIRECTIVE = /\[\[tool:([\w.-]+)\s*(\{[\s\S]*?\})?\s*\]\]/g;
/** Digits and operators with at least one operator between two operands; a leading minus is kept. */
const ARITHMETIC = /(?:(?<![\d)])-)?[\d(][\d\s.()]*(?:[-+*/^][\d\s.()]*)+[\d)]/;

function parseObject(json: string | undefined): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function requestedCalls(prompt: string, offeredTools: readonly string[]): Array<{ name: string; args: Record<string, unknown> }> {
  const directives = [...prompt.matchAll(TOOL_DIRECTIVE)].map((match) => ({ name: match[1]!, args: parseObject(match[2]) }));
  if (directives.length > 0) return directives;
  const expression = offeredTools.includes('calculator') ? prompt.match(ARITHMETIC)?.[0].trim() : undefined;
  return expression ? [{ name: 'calculator', args: { expression } }] : [];
}

/**
 * The tool calls a user prompt triggers when tools are offered: explicit `[[tool:…]]` directives,
 * else `calculator` for an arithmetic expression. `[[badargs]]` truncates the arguments JSON.
 */
export function planToolCalls(prompt: string, offeredTools: readonly string[], seedKey: string): SimToolCall[] {
  const malformed = prompt.includes('[[badargs]]');
  return requestedCalls(prompt, offeredTools).map(({ name, args }, index) => {
    const json = JSON.stringify(args);
    return {
      id: `call_${hexId(`${seedKey}\u0003${index}`)}`,
      name,
      arguments: args,
      argumentsJson: malformed ? json.slice(0, -1) : json,
    };
  });
}

/** `[[index0]]`: emulate Ollama's /v1 layer reusing index 0 for parallel calls (distinct ids only). */
export function wantsSharedIndex(prompt: string): boolean {
  return prompt.includes('[[index0]]');
}
