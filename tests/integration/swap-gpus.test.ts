import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeParts, startOps, textOf, type OpsHarness } from './failover-setup.js';
import { until, watchBackends, type BackendWatch } from './swap-setup.js';

/** Four vLLM engines (one model each, sleep mode) sharing one GPU with room for two. */
const spec = (name: string): SimModelSpec => ({ name, tokensPerSecond: 400, ttftMs: 5, loadMs: 200, sizeMb: 4578, maxTokens: 16 });
const MODELS = ['org/e0', 'org/e1', 'org/e2', 'org/e3'].map(spec);
const messages: ChatMessage[] = [{ role: 'user', content: 'What is a lighthouse for?' }];
const BUDGET_MB = 9536; // "10GB"

const awake = (sims: Simulator[]) => sims.map((s, i) => (s.state().sleeping ? -1 : i)).filter((i) => i >= 0);

describe('swap manager: vLLM engines sharing one GPU', () => {
  let engines: Simulator[] = [];
  let h: OpsHarness | undefined;
  let watch: BackendWatch | undefined;
  afterEach(async () => {
    watch?.stop();
    await h?.close();
    await Promise.all(engines.map((e) => e.close()));
    engines = [];
    h = undefined;
  });

  const start = async (opts: { asleep: boolean[]; preloadOnStart?: boolean }) => {
    engines = await Promise.all(MODELS.map((m) => startSimulator({ flavor: 'vllm', models: [m], sleepMode: true })));
    await Promise.all(engines.map((e, i) => (opts.asleep[i] ? fetch(`${e.url}/sleep?level=1`, { method: 'POST' }) : undefined)));
    watch = watchBackends(engines);
    h = await startOps(
      {
        gpus: [{ id: 'gpu0', memory: '10GB' }],
        backends: engines.map((e, i) => ({ id: `e${i}`, kind: 'vllm', url: e.url, gpu: 'gpu0' })),
        models: MODELS.map((m, i) => ({ id: `m${i}`, deployments: [{ backend: `e${i}`, model: m.name, sizeMb: m.sizeMb }] })),
        health: { intervalMs: 100, timeoutMs: 500 },
      },
      { preloadOnStart: opts.preloadOnStart ?? false, confirmPollMs: 5 },
    );
  };

  it('start-up preload wakes only what fits, in preference order', async () => {
    await start({ asleep: [true, true, true, true], preloadOnStart: true });
    await until(() => awake(engines).length === 2, 'two engines are awake');
    await new Promise((r) => setTimeout(r, 300));
    expect(awake(engines)).toEqual([0, 1]);
    expect(watch!.readings()).toBeGreaterThan(10);
    expect(watch!.peakMb()).toBeLessThanOrEqual(BUDGET_MB);
    expect(h!.ops.status().backends[0]!.memory).toMatchObject({ gpu: 'gpu0', budgetMb: BUDGET_MB, usedMb: 2 * 4578 });
  });

  it('engines found awake over the budget at start-up are put to sleep until it fits', async () => {
    await start({ asleep: [false, false, false, true], preloadOnStart: true });
    await until(() => watch!.count('sleep') === 1, 'one engine was put to sleep');
    expect(awake(engines)).toEqual([0, 1]);
    const memory = async (e: Simulator) => Number(/^vllm:gpu_memory_usage_bytes (\S+)/m.exec(await (await fetch(`${e.url}/metrics`)).text())![1]) / 2 ** 20;
    expect((await Promise.all(engines.map(memory))).reduce((a, b) => a + b, 0)).toBe(2 * 4578);
  });

  it('sleeps and wakes engines by usage under mixed load: no chat ever reaches a sleeping engine, nothing leased is slept, the budget holds', async () => {
    await start({ asleep: [false, false, true, true] });
    const asked = ['m0', 'm2', 'm1', 'm3', 'm2', 'm2', 'm0', 'm3', 'm1', 'm2', 'm3', 'm0'];
    const results = [];
    for (let i = 0; i < asked.length; i += 2) {
      results.push(...(await Promise.all(asked.slice(i, i + 2).map(async (id) => ({ id, parts: await collect(h!.registry.stream(id, { messages })) })))));
    }
    expect(results).toHaveLength(asked.length);
    for (const { id, parts } of results) {
      expect(errorOf(parts)).toBeUndefined();
      expect(textOf(parts)).toBe(simulatedAnswer(MODELS[Number(id.slice(1))]!, messages).text);
    }
    expect(watch!.count('sleep')).toBeGreaterThanOrEqual(3);
    expect(watch!.count('wake')).toBeGreaterThanOrEqual(3);
    expect(watch!.refused()).toBe(0);
    expect(watch!.leasedEvictions()).toBe(0);
    expect(watch!.readings()).toBeGreaterThan(10);
    expect(watch!.peakMb()).toBeLessThanOrEqual(BUDGET_MB);
  });

  it('an engine put to sleep outside Arena is re-checked before the chat: woken first, never sent a chat asleep', async () => {
    await start({ asleep: [false, true, true, true] });
    await fetch(`${engines[0]!.url}/sleep?level=1`, { method: 'POST' });
    const parts = await collect(h!.registry.stream('m0', { messages }));
    expect(routeParts(parts)).toHaveLength(1);
    expect(parts.some((p) => p.type === 'loading')).toBe(true);
    expect(textOf(parts)).toBe(simulatedAnswer(MODELS[0]!, messages).text);
    expect(watch!.refused()).toBe(0);
    expect(engines[0]!.state().sleeping).toBe(false);
  });
});

describe('swap manager: an Ollama and a vLLM engine sharing one GPU', () => {
  let sims: Simulator[] = [];
  let h: OpsHarness | undefined;
  let watch: BackendWatch | undefined;
  afterEach(async () => {
    watch?.stop();
    await h?.close();
    await Promise.all(sims.map((s) => s.close()));
  });

  it('evicts across backends: waking the engine unloads the least used Ollama model, and back', async () => {
    const [o1, o2] = [spec('o1:7b'), spec('o2:7b')];
    const ollama = await startSimulator({ flavor: 'ollama', models: [o1!, o2!] });
    const engine = await startSimulator({ flavor: 'vllm', models: [MODELS[0]!], sleepMode: true });
    await fetch(`${engine.url}/sleep?level=1`, { method: 'POST' });
    sims = [ollama, engine];
    watch = watchBackends(sims);
    h = await startOps(
      {
        gpus: [{ id: 'gpu0', memory: '10GB' }],
        backends: [
          { id: 'ollama', kind: 'ollama', url: ollama.url, gpu: 'gpu0' },
          { id: 'engine', kind: 'vllm', url: engine.url, gpu: 'gpu0' },
        ],
        models: [
          { id: 'o1', deployments: [{ backend: 'ollama', model: o1!.name }] },
          { id: 'o2', deployments: [{ backend: 'ollama', model: o2!.name }] },
          { id: 'v', deployments: [{ backend: 'engine', model: MODELS[0]!.name, sizeMb: MODELS[0]!.sizeMb }] },
        ],
        health: { intervalMs: 100, timeoutMs: 500 },
      },
      { confirmPollMs: 5 },
    );
    for (const id of ['o1', 'o1', 'o2']) expect(errorOf(await collect(h.registry.stream(id, { messages })))).toBeUndefined();
    expect(ollama.state().loaded.sort()).toEqual([o1!.name, o2!.name]);

    const woken = await collect(h.registry.stream('v', { messages }));
    expect(textOf(woken)).toBe(simulatedAnswer(MODELS[0]!, messages).text);
    expect(engine.state().sleeping).toBe(false);
    expect(ollama.state().loaded).toEqual([o1!.name]);

    expect(errorOf(await collect(h.registry.stream('o2', { messages })))).toBeUndefined();
    expect(ollama.state().loaded.sort()).toEqual([o1!.name, o2!.name]);
    expect(engine.state().sleeping).toBe(true);
    expect(watch.refused()).toBe(0);
    expect(watch.leasedEvictions()).toBe(0);
    expect(watch.readings()).toBeGreaterThan(10);
    expect(watch.peakMb()).toBeLessThanOrEqual(BUDGET_MB);
  });
});
