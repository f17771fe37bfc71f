import { once } from 'node:events';
import { createOllamaProvider } from '../../server/providers/ollama.js';
import { createOpenAIProvider } from '../../server/providers/openai.js';
import type { Provider, StreamTimeouts } from '../../server/providers/types.js';
import type { SimModelSpec, SimStreamEvent, Simulator } from '../../server/sim/index.js';

/** Shared by the provider-vs-simulator test files: one provider factory per wire protocol. */

export type Flavor = 'ollama' | 'vllm';

export const RELAXED: StreamTimeouts = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };

export function providerFor(flavor: Flavor, url: string, timeouts: StreamTimeouts = RELAXED, apiKey?: string): Provider {
  return flavor === 'ollama'
    ? createOllamaProvider({ baseUrl: url, timeouts })
    : createOpenAIProvider({ baseUrl: url, apiKey, timeouts, kind: 'vllm' });
}

/** Fast models so a whole answer streams in a few dozen milliseconds. */
export const PLAIN: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 500, ttftMs: 15, loadMs: 20, capabilities: ['completion', 'tools'], maxTokens: 40 };
export const THINKS_IN_FIELD: SimModelSpec = { name: 'qwen3:4b', family: 'qwen', tokensPerSecond: 500, ttftMs: 15, loadMs: 20, capabilities: ['completion', 'tools', 'thinking'], thinkFormat: 'field', maxTokens: 40 };
export const THINKS_IN_TAGS: SimModelSpec = { name: 'deepseek-r1:7b', family: 'deepseek', tokensPerSecond: 500, ttftMs: 15, loadMs: 20, capabilities: ['completion', 'thinking'], thinkFormat: 'tags', maxTokens: 40 };
export const NO_TOOLS: SimModelSpec = { name: 'phi3:mini', family: 'phi', tokensPerSecond: 500, ttftMs: 15, loadMs: 20, capabilities: ['completion'], maxTokens: 40 };

/** Resolves with the simulator's next 'stream-end' event for `model`. */
export function nextStreamEnd(sim: Simulator, model: string): Promise<SimStreamEvent> {
  return new Promise((resolve) => {
    const onEnd = (event: SimStreamEvent) => {
      if (event.model !== model) return;
      sim.events.off('stream-end', onEnd);
      resolve(event);
    };
    sim.events.on('stream-end', onEnd);
  });
}

/** Puts a simulator down (connection refused) and waits until its listener has really closed. */
export async function takeDown(sim: Simulator): Promise<void> {
  const down = once(sim.events, 'down');
  sim.setFault({ kind: 'down' });
  await down;
}

export async function bringUp(sim: Simulator): Promise<void> {
  const up = once(sim.events, 'up');
  sim.setFault({ kind: 'none' });
  await up;
}
