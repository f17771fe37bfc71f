import { classify } from './classifier.js';
import { explicitRoute } from './explicit.js';
import { createLlmLayer, type LlmRouterOptions } from './llm.js';
import { applyRules } from './rules.js';
import { isAbstention, type Abstention, type LayerVerdict, type RouteDecision, type RouteMode } from './types.js';

/**
 * The hybrid router: explicit choice, then rules, then the built-in classifier, then (when
 * configured) an LLM, cheapest first; the first layer that does not abstain decides. When all
 * abstain the prompt goes to the arena: a general answer from two models is the safe default.
 */

export interface RouterOptions {
  /** The built-in classifier layer; default on. */
  classifier?: boolean;
  llm?: LlmRouterOptions;
}

export interface Router {
  /** `prompt` in the answer is what to send on: the prompt without any /tools or /arena prefix. */
  decide(prompt: string, mode?: RouteMode): Promise<RouteDecision & { prompt: string }>;
}

type Layer = (prompt: string) => LayerVerdict | Promise<LayerVerdict>;

export function createRouter(opts: RouterOptions = {}): Router {
  const layers: Layer[] = [applyRules];
  if (opts.classifier ?? true) layers.push((prompt) => classify(prompt));
  if (opts.llm) layers.push(createLlmLayer(opts.llm));
  return {
    async decide(input, mode = 'auto') {
      const explicit = explicitRoute(input, mode);
      if (explicit.decision) return { ...explicit.decision, prompt: explicit.prompt };
      const abstentions: Abstention[] = [];
      for (const layer of layers) {
        const verdict = await layer(explicit.prompt);
        if (!isAbstention(verdict)) return { ...verdict, prompt: explicit.prompt };
        abstentions.push(verdict);
      }
      return { ...arenaByDefault(abstentions), prompt: explicit.prompt };
    },
  };
}

/** Credited to the last layer asked; as sure as the layer that leaned towards arena, else a coin flip. */
function arenaByDefault(abstentions: Abstention[]): RouteDecision {
  const leaning = abstentions.flatMap((abstention) => abstention.arenaConfidence ?? []).at(-1);
  return {
    route: 'arena',
    layer: abstentions.at(-1)!.layer,
    reason: `${abstentions.map((abstention) => abstention.reason).join('; ')}: arena by default`,
    confidence: leaning ?? 0.5,
  };
}
