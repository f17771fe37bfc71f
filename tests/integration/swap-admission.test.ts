import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeParts, startOps, type OpsHarness } from './failover-setup.js';
import { until } from './swap-setup.js';

/**
 * A GPU Ollama with room for one 400 MiB model, and a CPU Ollama serving the same models. Until a
 * load is measured the manager estimates it at 0.5 ms per MiB: 200 ms here.
 */
const messages: ChatMessage[] = [{ role: 'user', content: 'Name three rivers.' }];
const NAMES = ['p:1b', 'q:1b', 'r:1b'];
const [P, Q, R] = NAMES as [string, string, string];

describe('swap manager: cost-aware admission', () => {
  let sims: Simulator[] = [];
  let h: OpsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
  });

  const start = async (gpuTiming: Partial<SimModelSpec>, cpuTiming: Partial<SimModelSpec>, swap: Record<string, unknown> = {}) => {
    const spec = (timing: Partial<SimModelSpec>) => NAMES.map((name) => ({ name, tokensPerSecond: 400, sizeMb: 400, maxTokens: 10, ...timing }));
    const gpu = await startSimulator({ flavor: 'ollama', models: spec(gpuTiming) });
    const cpu = await startSimulator({ flavor: 'ollama', models: spec(cpuTiming), preloaded: true });
    sims = [gpu, cpu];
    h = await startOps(
      {
        backends: [
          { id: 'gpu', kind: 'ollama', url: gpu.url, gpu: true, vramMb: 500 },
          { id: 'cpu', kind: 'ollama', url: cpu.url },
        ],
        models: NAMES.map((name) => ({ id: name, deployments: [{ backend: 'gpu', model: name }, { backend: 'cpu', model: name }] })),
        health: { intervalMs: 100, timeoutMs: 500 },
      },
      { preloadMinPerMinute: 0, confirmPollMs: 5, preloadDelayMs: 20, ...swap },
    );
    return { gpu, cpu };
  };
  const ask = (model: string) => collect(h!.registry.stream(model, { messages }));
  const servedBy = async (model: string) => {
    const parts = await ask(model);
    expect(errorOf(parts)).toBeUndefined();
    return { deployment: routeParts(parts)[0]!.deployment, waited: parts.some((p) => p.type === 'loading') };
  };

  it('a load slower than the CPU: the CPU answers at once and the demand preloads the GPU in the background', async () => {
    const { gpu } = await start({ ttftMs: 5, loadMs: 400 }, { ttftMs: 30 });
    expect(await servedBy(P)).toEqual({ deployment: `cpu/${P}`, waited: false });
    await until(() => gpu.state().loaded.includes(P) && h!.ops.swap.residency(`gpu/${P}`) === 'loaded', 'P is preloaded');
    expect(await servedBy(P)).toEqual({ deployment: `gpu/${P}`, waited: false });
  });

  it('a load faster than the CPU (once its first token is measured): the request waits for the GPU', async () => {
    const { gpu } = await start({ ttftMs: 5, loadMs: 20 }, { ttftMs: 400 }, { preloadDelayMs: 60_000 });
    // Not measured yet: served by the CPU, which is how its speed becomes known.
    expect(await servedBy(P)).toEqual({ deployment: `cpu/${P}`, waited: false });
    expect(gpu.state().loaded).toEqual([]);
    expect(await servedBy(P)).toEqual({ deployment: `gpu/${P}`, waited: true });
  });

  it('a rarely used model does not evict a popular one, even when loading would beat the CPU', async () => {
    const { gpu } = await start({ ttftMs: 5, loadMs: 20 }, { ttftMs: 300 }, { preloadDelayMs: 60_000 });
    await servedBy(P);
    for (let i = 0; i < 4; i++) await servedBy(P);
    expect(gpu.state().loaded).toEqual([P]);
    expect(await servedBy(Q)).toEqual({ deployment: `cpu/${Q}`, waited: false });
    expect(gpu.state().loaded).toEqual([P]);
    // Once Q is clearly the more used (hysteresis: 1.5× P's score), it does come in.
    for (let i = 0; i < 10; i++) await servedBy(Q);
    await h!.ops.swap.rebalance();
    expect(gpu.state().loaded).toEqual([Q]);
  });

  it('preload runs under load: with requests in flight all along, the most-used model is brought in', async () => {
    const { gpu } = await start({ ttftMs: 5, loadMs: 100, tokensPerSecond: 100 }, { ttftMs: 20, tokensPerSecond: 100 }, { minResidentMs: 0 });
    let stop = false;
    const clients = [P, P, Q, R].map(async (model) => {
      while (!stop) await ask(model);
    });
    await until(() => gpu.state().loaded.includes(P), 'the most-used model is on the GPU');
    stop = true;
    await Promise.all(clients);
    expect(gpu.state().loaded).toEqual([P]);
  });
});
