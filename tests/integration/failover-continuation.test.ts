import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type SimRequestEvent, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeParts, startOps, textOf, type OpsHarness } from './failover-setup.js';

/** A continuation after a mid-stream failover asks only for the tokens the answer may still use. */

const LLAMA: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 400, ttftMs: 5, maxTokens: 60 };
const messages: ChatMessage[] = [{ role: 'user', content: 'Explain in detail how bridges are built and why they stand.' }];
const DIES_AFTER = 7;

describe('continuation after a mid-stream failover', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let h: OpsHarness;
  const requests: Record<'gpu' | 'cpu', SimRequestEvent[]> = { gpu: [], cpu: [] };

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [LLAMA] }),
      startSimulator({ flavor: 'ollama', models: [LLAMA], preloaded: true }),
    ]);
    gpu.events.on('request', (e: SimRequestEvent) => requests.gpu.push(e));
    cpu.events.on('request', (e: SimRequestEvent) => requests.cpu.push(e));
    h = await startOps({
      backends: [
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: [{ id: 'llama', deployments: [{ backend: 'gpu', model: LLAMA.name }, { backend: 'cpu', model: LLAMA.name }] }],
      health: { intervalMs: 1_000, timeoutMs: 500 },
    });
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([gpu.close(), cpu.close()]);
  });

  it('asks the CPU for maxTokens minus the tokens the GPU already produced, and the answer stays whole', async () => {
    const maxTokens = 30;
    gpu.setFault({ kind: 'die_after', tokens: DIES_AFTER });
    const parts = await collect(h.registry.stream('llama', { messages, maxTokens }));
    expect(errorOf(parts)).toBeUndefined();
    expect(routeParts(parts).map((p) => p.resumed)).toEqual([false, true]);
    expect(requests.gpu.map((r) => (r.body as { max_tokens?: number }).max_tokens)).toEqual([maxTokens]);
    expect(requests.cpu.map((r) => (r.body as { options?: { num_predict?: number } }).options?.num_predict)).toEqual([maxTokens - DIES_AFTER]);
    // Exactly the first maxTokens tokens of the uninterrupted answer (which is longer).
    const uninterrupted = simulatedAnswer(LLAMA, messages).tokens;
    expect(uninterrupted.length).toBeGreaterThan(maxTokens);
    expect(textOf(parts)).toBe(uninterrupted.slice(0, maxTokens).join(''));
    // The Ollama provider merges the lines of one network read into one part, counted in `tokens`.
    const tokens = parts.reduce((n, p) => n + (p.type === 'text' ? (p.tokens ?? 1) : 0), 0);
    expect(tokens).toBe(maxTokens);
  });
});
