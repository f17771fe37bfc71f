import type { RouteDecision, RouteMode } from './types.js';

/** `/tools what is 2+2` or `/arena …` at the very start; the prefix is removed before anyone sees the prompt. */
const PREFIX = /^\s*\/(tools|arena)(?=\s|$)\s*/i;

/**
 * The user's own choice: a per-message prefix, else the mode toggle. The prefix wins because it
 * was typed for this very message, while the toggle is a standing setting.
 */
export function explicitRoute(prompt: string, mode: RouteMode = 'auto'): { prompt: string; decision?: RouteDecision } {
  const prefix = PREFIX.exec(prompt);
  if (prefix) {
    const route = prefix[1]!.toLowerCase() as 'tools' | 'arena';
    return { prompt: prompt.slice(prefix[0].length), decision: { route, layer: 'explicit', reason: `the prompt starts with /${route}`, confidence: 1 } };
  }
  if (mode !== 'auto') return { prompt, decision: { route: mode, layer: 'explicit', reason: `the user chose ${mode} mode`, confidence: 1 } };
  return { prompt };
}
