import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoutedPart } from '../../server/models/failover.js';
import type { ChatMessage } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeOf, routeParts, startOps, textOf, type OpsHarness } from './failover-setup.js';
import { until, watchBackends, type BackendWatch } from './swap-setup.js';

const spec = (name: string, over: Partial<SimModelSpec> = {}): SimModelSpec => ({ name, tokensPerSecond: 400, ttftMs: 5, loadMs: 30, sizeMb: 4000, maxTokens: 20, ...over });
const messages: ChatMessage[] = [{ role: 'user', content: 'Name three rivers.' }];

describe('swap manager: leases', () => {
  let sims: Simulator[] = [];
  let h: OpsHarness | undefined;
  let watch: BackendWatch | undefined;
  afterEach(async () => {
    watch?.stop();
    await h?.close();
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
    h = undefined;
  });

  it('under concurrent battles over 3 models with room for 2, never evicts a unit that is streaming and never exceeds the budget', async () => {
    const models = ['m-a:1b', 'm-b:1b', 'm-c:1b'].map((n) => spec(n, { tokensPerSecond: 200 }));
    const gpu = await startSimulator({ flavor: 'ollama', models });
    sims = [gpu];
    watch = watchBackends([gpu]);
    h = await startOps(
      {
        backends: [{ id: 'gpu', kind: 'ollama', url: gpu.url, gpu: true, vramMb: 10_000 }],
        models: models.map((m) => ({ id: m.name, deployments: [{ backend: 'gpu', model: m.name }] })),
        health: { intervalMs: 100, timeoutMs: 500 },
      },
      { confirmPollMs: 5 },
    );
    const names = models.map((m) => m.name);
    const outcomes: Array<{ model: string; parts: RoutedPart[] }> = [];
    for (let wave = 0; wave < 12; wave++) {
      const left = names[wave % 3]!;
      const right = names[(wave + 1 + (wave % 2)) % 3]!;
      const sides = await Promise.all([left, right].map(async (model) => ({ model, parts: await collect(h!.registry.stream(model, { messages })) })));
      outcomes.push(...sides);
    }
    expect(outcomes).toHaveLength(24);
    for (const { model, parts } of outcomes) {
      const error = errorOf(parts);
      // With both resident models streaming, a third has no room: a clear busy, never a cut answer.
      if (error) expect(error.type === 'error' && error.error.code).toBe('busy');
      else expect(textOf(parts)).toBe(simulatedAnswer(models.find((m) => m.name === model)!, messages).text);
    }
    expect(watch.count('unload')).toBeGreaterThanOrEqual(5);
    expect(watch.leasedEvictions()).toBe(0);
    expect(watch.readings()).toBeGreaterThan(20);
    expect(watch.peakMb()).toBeLessThanOrEqual(10_000);
  });

  it('a queued eviction re-checks its victim when it runs: the unit leased meanwhile stays', async () => {
    const models = [spec('m-a:1b'), spec('m-b:1b', { tokensPerSecond: 40 }), spec('m-c:1b'), spec('tiny:1b', { sizeMb: 100, loadMs: 300 })];
    const [A, B, C, TINY] = models.map((m) => m.name) as [string, string, string, string];
    const gpu = await startSimulator({ flavor: 'ollama', models });
    sims = [gpu];
    watch = watchBackends([gpu]);
    h = await startOps(
      {
        backends: [{ id: 'gpu', kind: 'ollama', url: gpu.url, gpu: true, vramMb: 10_000 }],
        models: models.map((m) => ({ id: m.name, deployments: [{ backend: 'gpu', model: m.name }] })),
        health: { intervalMs: 100, timeoutMs: 500 },
      },
      { confirmPollMs: 5 },
    );
    for (let i = 0; i < 3; i++) await collect(h.registry.stream(A, { messages }));
    await collect(h.registry.stream(B, { messages }));
    // B is the idle unit with the lowest score: the one C's load would evict if it decided now.
    const units = h.ops.status().backends[0]!.memory!.units;
    expect(units.find((u) => u.models[0] === B)!.score!).toBeLessThan(units.find((u) => u.models[0] === A)!.score!);

    const tiny = collect(h.registry.stream(TINY, { messages })); // occupies the GPU's queue for 300 ms
    await once(gpu.events, 'loading');
    const c = collect(h.registry.stream(C, { messages })); // queued behind it
    const b = collect(h.registry.stream(B, { messages })); // B leased while C waits
    await until(() => gpu.state().inFlight > 0, 'B streams');
    const [cParts, bParts] = await Promise.all([c, b, tiny]);
    expect(textOf(bParts)).toBe(simulatedAnswer(models[1]!, messages).text);
    expect(errorOf(cParts)).toBeUndefined();
    expect([...gpu.state().loaded].sort()).toEqual([B, C, TINY].sort());
    expect(watch.leasedEvictions()).toBe(0);
    expect(watch.readings()).toBeGreaterThan(10);
    expect(watch.peakMb()).toBeLessThanOrEqual(10_000);
  });

  it('a preload drains its victim first: new requests go to the CPU until the stream ends, then the swap happens', async () => {
    const models = [spec('x:1b', { tokensPerSecond: 10 }), spec('y:1b')];
    const [X, Y] = models.map((m) => m.name) as [string, string];
    const gpu = await startSimulator({ flavor: 'ollama', models });
    const cpu = await startSimulator({ flavor: 'ollama', models, preloaded: true });
    sims = [gpu, cpu];
    watch = watchBackends([gpu]);
    h = await startOps(
      {
        backends: [
          { id: 'gpu', kind: 'ollama', url: gpu.url, gpu: true, vramMb: 5_000 },
          { id: 'cpu', kind: 'ollama', url: cpu.url },
        ],
        models: models.map((m) => ({ id: m.name, deployments: [{ backend: 'gpu', model: m.name }, { backend: 'cpu', model: m.name }] })),
        health: { intervalMs: 100, timeoutMs: 500 },
      },
      { preloadOnStart: true, minResidentMs: 0, preloadMinPerMinute: 0, confirmPollMs: 5, preloadDelayMs: 10_000 },
    );
    await until(() => gpu.state().loaded.includes(X) && h!.ops.swap.residency(`gpu/${X}`) === 'loaded', 'X is preloaded');
    const xStream = collect(h.registry.stream(X, { messages })); // ~2 s at 10 tokens/s
    await until(() => gpu.state().inFlight === 1, 'X streams on the GPU');
    // Y is asked for often, served by the CPU (it cannot load without evicting X).
    for (let i = 0; i < 4; i++) {
      const parts = await collect(h.registry.stream(Y, { messages }));
      expect(routeParts(parts)[0]!.deployment).toBe(`cpu/${Y}`);
    }
    const rebalanced = h.ops.swap.rebalance();
    await until(() => routeOf(h!.ops, X)[0] === `cpu/${X}`, 'X is drained: its requests go to the CPU');
    expect(gpu.state()).toMatchObject({ loaded: [X], inFlight: 1 });
    const meanwhile = await collect(h.registry.stream(X, { messages }));
    expect(routeParts(meanwhile)[0]!.deployment).toBe(`cpu/${X}`);
    expect(textOf(await xStream)).toBe(simulatedAnswer(models[0]!, messages).text);
    await rebalanced;
    expect(gpu.state().loaded).toEqual([Y]);
    expect(watch.leasedEvictions()).toBe(0);
    expect(watch.readings()).toBeGreaterThan(10);
    expect(watch.peakMb()).toBeLessThanOrEqual(5_000);
  });
});
