import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, startOps, textOf, type OpsHarness } from './failover-setup.js';
import { until, watchBackends, type BackendWatch } from './swap-setup.js';

const spec = (name: string, over: Partial<SimModelSpec> = {}): SimModelSpec => ({ name, tokensPerSecond: 400, ttftMs: 5, loadMs: 30, sizeMb: 4000, maxTokens: 20, ...over });
const MODELS = [spec('m-a:1b', { tokensPerSecond: 20 }), spec('m-b:1b'), spec('m-c:1b')];
const [A, B, C] = MODELS.map((m) => m.name) as [string, string, string];
const messages: ChatMessage[] = [{ role: 'user', content: 'Name three rivers.' }];
const MB = 2 ** 20;

const psNames = async (sim: Simulator) => ((await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string }> }).models.map((m) => m.name).sort();
const post = (sim: Simulator, body: unknown) => fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify(body) });

describe('simulator: Ollama holds an unload back while the model runs a chat', () => {
  let gpu: Simulator;
  afterEach(() => gpu.close());

  it('answers the unload at once, keeps listing the model in /api/ps until the chat ends, then frees it', async () => {
    gpu = await startSimulator({ flavor: 'ollama', models: MODELS, preloaded: true });
    const chat = post(gpu, { model: A, messages, stream: false }); // ~1 s at 20 tokens/s
    await once(gpu.events, 'request');
    const unload = await post(gpu, { model: A, messages: [], keep_alive: 0, stream: false });
    expect(((await unload.json()) as { done_reason: string }).done_reason).toBe('unload');
    expect(await psNames(gpu)).toEqual([A, B, C]);
    const answer = (await (await chat).json()) as { message: { content: string } };
    expect(answer.message.content).toBe(simulatedAnswer(MODELS[0]!, messages).text);
    await until(async () => !(await psNames(gpu)).includes(A), 'A leaves /api/ps');
  });

  it('lists a model while it loads, with its memory', async () => {
    gpu = await startSimulator({ flavor: 'ollama', models: [spec('slow:1b', { loadMs: 300 })] });
    const load = post(gpu, { model: 'slow:1b', messages: [] });
    await once(gpu.events, 'loading');
    const ps = (await (await fetch(`${gpu.url}/api/ps`)).json()) as { models: Array<{ name: string; size_vram: number }> };
    expect(ps.models).toEqual([expect.objectContaining({ name: 'slow:1b', size_vram: 4000 * MB })]);
    expect(gpu.state().loaded).toEqual([]);
    await load;
    expect(gpu.state().loaded).toEqual(['slow:1b']);
  });
});

describe('swap manager: memory counts until the backend reports it gone', () => {
  let gpu: Simulator;
  let h: OpsHarness;
  let watch: BackendWatch;
  afterEach(async () => {
    watch.stop();
    await h.close();
    await gpu.close();
  });

  const start = async (swap: Record<string, unknown> = {}, intervalMs = 100) => {
    gpu = await startSimulator({ flavor: 'ollama', models: MODELS });
    watch = watchBackends([gpu]);
    h = await startOps(
      {
        backends: [{ id: 'gpu', kind: 'ollama', url: gpu.url, gpu: true, vramMb: 10_000 }],
        models: MODELS.map((m) => ({ id: m.name, deployments: [{ backend: 'gpu', model: m.name }] })),
        health: { intervalMs, timeoutMs: 500 },
      },
      { confirmPollMs: 5, ...swap },
    );
  };

  it('an unload held back by a chat from another client: the next load starts only once /api/ps stops listing it', async () => {
    await start();
    await collect(h.registry.stream(A, { messages }));
    for (let i = 0; i < 3; i++) await collect(h.registry.stream(B, { messages }));
    expect(gpu.state().loaded.sort()).toEqual([A, B]);
    // Another client of the same Ollama streams from A: Arena holds no lease on it.
    const outside = post(gpu, { model: A, messages, stream: false });
    await until(() => gpu.state().inFlight === 1, 'the outside chat runs');

    const order: string[] = [];
    gpu.events.on('unload-request', (e: { model: string }) => order.push(`unload-request ${e.model}`));
    gpu.events.on('unload', (e: { model: string }) => order.push(`unload ${e.model}`));
    gpu.events.on('loading', (e: { model: string }) => order.push(`loading ${e.model}`));
    const c = collect(h.registry.stream(C, { messages }));
    await until(() => order.includes(`unload-request ${A}`), 'A is asked to unload');
    await new Promise((r) => setTimeout(r, 100));
    // Still held by the outside chat: Arena counts it and waits.
    expect(gpu.state().loaded.sort()).toEqual([A, B]);
    const memory = h.ops.status().backends[0]!.memory!;
    expect(memory.usedMb).toBe(8000);
    expect(memory.units.map((u) => u.models[0]).sort()).toEqual([A, B]);

    await outside;
    const parts = await c;
    expect(errorOf(parts)).toBeUndefined();
    expect(textOf(parts)).toBe(simulatedAnswer(MODELS[2]!, messages).text);
    expect(order).toEqual([`unload-request ${A}`, `unload ${A}`, `loading ${C}`]);
    expect(watch.readings()).toBeGreaterThan(10);
    expect(watch.peakMb()).toBeLessThanOrEqual(10_000);
  });

  it('a model unloaded and another loaded behind Arena\'s back: re-checked before the chat, so Ollama never reloads it over the budget', async () => {
    // Probes far apart: only the re-check before a chat and the reconcile before a load can tell.
    await start({ recheckMs: 0 }, 60_000);
    await collect(h.registry.stream(A, { messages }));
    await collect(h.registry.stream(B, { messages }));
    await post(gpu, { model: A, messages: [], keep_alive: 0, stream: false });
    await post(gpu, { model: C, messages: [], stream: false });
    expect(gpu.state().loaded.sort()).toEqual([B, C]);

    const parts = await collect(h.registry.stream(A, { messages }));
    expect(errorOf(parts)).toBeUndefined();
    expect(parts.some((p) => p.type === 'loading')).toBe(true);
    expect(gpu.state().loaded).toHaveLength(2);
    expect(gpu.state().loaded).toContain(A);
    expect(watch.readings()).toBeGreaterThan(10);
    expect(watch.peakMb()).toBeLessThanOrEqual(10_000);
  });
});
