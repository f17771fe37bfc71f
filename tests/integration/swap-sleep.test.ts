import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeParts, startOps, stateOf, textOf, untilState, type OpsHarness } from './failover-setup.js';

const QWEN: SimModelSpec = { name: 'Qwen/Qwen2.5-7B-Instruct', family: 'qwen', tokensPerSecond: 400, ttftMs: 5, loadMs: 400, maxTokens: 20 };
const GPU = `gpu/${QWEN.name}`;
const messages: ChatMessage[] = [{ role: 'user', content: 'What is a lighthouse for?' }];

describe('swap manager: a sleeping vLLM engine', () => {
  let gpu: Simulator;
  let h: OpsHarness;
  const isSleeping = async () => ((await (await fetch(`${gpu.url}/is_sleeping`)).json()) as { is_sleeping: boolean }).is_sleeping;

  beforeAll(async () => {
    gpu = await startSimulator({ flavor: 'vllm', models: [QWEN], sleepMode: true });
    h = await startOps({
      backends: [{ id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true, vramMb: 16_000 }],
      models: [{ id: 'qwen', deployments: [{ backend: 'gpu', model: QWEN.name, sizeMb: 15_000 }] }],
      health: { intervalMs: 100, timeoutMs: 500 },
    });
  });
  afterAll(async () => {
    await h.close();
    await gpu.close();
  });

  it('is seen sleeping by the probes, and stays available', async () => {
    await fetch(`${gpu.url}/sleep?level=1`, { method: 'POST' });
    await h.ops.health.probeNow('gpu');
    expect(stateOf(h.ops, GPU)).toBe('sleeping');
    expect(h.registry.availableModels().map((m) => m.id)).toEqual(['qwen']);
  });

  it('is woken before use: the stream shows "loading" first, and the engine is awake afterwards', async () => {
    const states: string[] = [];
    h.ops.on('change', (_snapshot, changes) => states.push(...changes.filter((c) => c.deployment === GPU).map((c) => c.after)));
    const parts = await collect(h.registry.stream('qwen', { messages }));
    expect(parts.slice(0, 2)).toEqual([
      { type: 'route', deployment: GPU, attempt: 1, resumed: false },
      { type: 'loading', deployment: GPU },
    ]);
    // A chat sent to a sleeping engine answers 503; one attempt and no error means it was awake first.
    expect(routeParts(parts)).toHaveLength(1);
    expect(errorOf(parts)).toBeUndefined();
    expect(textOf(parts)).toBe(simulatedAnswer(QWEN, messages).text);
    expect(await isSleeping()).toBe(false);
    expect(states).toEqual(['loading', 'healthy']);
    expect(gpu.state().sleeping).toBe(false);
  });

  it('counts the engine against the GPU budget while awake', async () => {
    await untilState(h.ops, GPU, 'healthy');
    const memory = h.ops.status().backends[0]!.memory!;
    expect(memory).toMatchObject({ budgetMb: 16_000, usedMb: 15_000 });
    expect(memory.units[0]).toMatchObject({ models: [QWEN.name], inFlight: 0 });
  });
});
