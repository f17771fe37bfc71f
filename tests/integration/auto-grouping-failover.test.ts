import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeOf, routeParts, startOps, textOf, untilState, type OpsHarness } from './failover-setup.js';
import { takeDown } from './providers-sim-setup.js';

/**
 * Auto mode (no `models` list): a GPU vLLM serving `Qwen/Qwen2.5-7B-Instruct` and a CPU Ollama
 * serving `qwen2.5:7b-instruct` are one arena model, so an answer cut on the GPU finishes on the CPU.
 */

const GPU_NAME = 'Qwen/Qwen2.5-7B-Instruct';
const CPU_NAME = 'qwen2.5:7b-instruct';
const spec = { family: 'qwen', tokensPerSecond: 400, ttftMs: 5, maxTokens: 40 };
const messages: ChatMessage[] = [{ role: 'user', content: 'Explain in detail how bridges are built and why they stand.' }];

describe('auto mode groups the GPU and CPU copies of one model, with failover between them', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let h: OpsHarness;

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [{ name: GPU_NAME, ...spec }] }),
      startSimulator({ flavor: 'ollama', models: [{ name: CPU_NAME, ...spec }, { name: 'llama3.2:3b', ...spec, family: 'llama' }], preloaded: true }),
    ]);
    h = await startOps({
      backends: [
        { id: 'cpu', kind: 'ollama', url: cpu.url },
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true },
      ],
      health: { intervalMs: 100, timeoutMs: 500 },
    });
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([gpu.close(), cpu.close()]);
  });

  it('one arena model with the GPU deployment first, the CPU copy second', () => {
    expect(h.registry.availableModels().map((m) => [m.id, m.deployments.map((d) => d.key)])).toEqual([
      [GPU_NAME, [`gpu/${GPU_NAME}`, `cpu/${CPU_NAME}`]],
      ['llama3.2:3b', ['cpu/llama3.2:3b']],
    ]);
    expect(h.registry.report().mode).toBe('auto');
  });

  it('the GPU dies mid-answer: the CPU copy continues it, and new requests go to the CPU', async () => {
    gpu.setFault({ kind: 'die_after', tokens: 5 });
    const parts = await collect(h.registry.stream(GPU_NAME, { messages }));
    expect(errorOf(parts)).toBeUndefined();
    expect(routeParts(parts).map((p) => [p.deployment, p.resumed])).toEqual([
      [`gpu/${GPU_NAME}`, false],
      [`cpu/${CPU_NAME}`, true],
    ]);
    expect(parts.filter((p) => p.type === 'text').length).toBeGreaterThan(5);
    expect(textOf(parts).length).toBeGreaterThan(40);

    await takeDown(gpu);
    await untilState(h.ops, `gpu/${GPU_NAME}`, 'down');
    expect(routeOf(h.ops, GPU_NAME)).toEqual([`cpu/${CPU_NAME}`]);
    const next = await collect(h.registry.stream(GPU_NAME, { messages }));
    expect(routeParts(next).map((p) => p.deployment)).toEqual([`cpu/${CPU_NAME}`]);
    expect(errorOf(next)).toBeUndefined();
  });
});
