import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RoutedPart } from '../../server/models/failover.js';
import type { ChatMessage } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect } from '../fixtures/transcripts/parts.js';
import { errorOf, routeOf, routeParts, startOps, stateOf, textOf, untilState, type OpsHarness } from './failover-setup.js';
import { bringUp, takeDown } from './providers-sim-setup.js';

/** The same model on a GPU vLLM and a CPU Ollama, paced so a fault lands mid-answer. */
const LLAMA: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 300, ttftMs: 15, loadMs: 20, maxTokens: 40 };
const GPU = `gpu/${LLAMA.name}`;
const CPU = `cpu/${LLAMA.name}`;
const CLOSE_AFTER = 3;
const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me about the history of bridges.' }];
const uninterrupted = simulatedAnswer(LLAMA, messages).text;

describe('health-aware routing and failover between a GPU and a CPU backend', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let h: OpsHarness;

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [LLAMA], maxConcurrent: 1 }),
      startSimulator({ flavor: 'ollama', models: [LLAMA], preloaded: true }),
    ]);
    h = await startOps({
      backends: [
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: [{ id: 'llama', deployments: [{ backend: 'gpu', model: LLAMA.name }, { backend: 'cpu', model: LLAMA.name }] }],
      health: { intervalMs: 50, timeoutMs: 500, closeAfter: CLOSE_AFTER, degradedQueueDepth: 1 },
    });
  });
  afterEach(async () => {
    if (gpu.state().inFlight === 0 && stateOf(h.ops, GPU) === 'healthy') return;
    gpu.setFault({ kind: 'none' });
    cpu.setFault({ kind: 'none' });
    await Promise.all([untilState(h.ops, GPU, 'healthy'), untilState(h.ops, CPU, 'healthy')]);
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([gpu.close(), cpu.close()]);
  });

  const ask = () => collect(h.registry.stream('llama', { messages }));
  const gpuProbe = (ok: boolean) =>
    new Promise<void>((resolve) => {
      const onProbe = (backend: string, result: { ok: boolean }) => {
        if (backend !== 'gpu' || result.ok !== ok) return;
        h.ops.health.off('probe', onProbe);
        resolve();
      };
      h.ops.health.on('probe', onProbe);
    });

  it('serves from the GPU while it is healthy', async () => {
    expect(routeOf(h.ops, 'llama')).toEqual([GPU, CPU]);
    const parts = await ask();
    expect(routeParts(parts).map((p) => p.deployment)).toEqual([GPU]);
    expect(textOf(parts)).toBe(uninterrupted);
  });

  it('GPU killed mid-stream: the answer completes on the CPU as one continuous text, and new requests go to the CPU', async () => {
    const parts: RoutedPart[] = [];
    let texts = 0;
    for await (const part of h.registry.stream('llama', { messages })) {
      parts.push(part);
      if (part.type === 'text' && ++texts === 5) gpu.setFault({ kind: 'down' });
    }
    expect(routeParts(parts)).toEqual([
      { type: 'route', deployment: GPU, attempt: 1, resumed: false },
      { type: 'route', deployment: CPU, attempt: 2, resumed: true },
    ]);
    expect(errorOf(parts)).toBeUndefined();
    expect(textOf(parts)).toBe(uninterrupted);

    await untilState(h.ops, GPU, 'down');
    const next = await ask();
    expect(routeParts(next).map((p) => p.deployment)).toEqual([CPU]);
    expect(textOf(next)).toBe(uninterrupted);
  });

  it('GPU down before the request: served by the CPU with no error', async () => {
    await takeDown(gpu);
    const parts = await ask();
    expect(errorOf(parts)).toBeUndefined();
    expect(textOf(parts)).toBe(uninterrupted);
    expect(routeParts(parts).at(-1)?.deployment).toBe(CPU);
    // The refused attempt tripped the breaker at once: nothing more is sent to the GPU.
    expect(stateOf(h.ops, GPU)).toBe('down');
    expect(routeOf(h.ops, 'llama')).toEqual([CPU]);
  });

  it('GPU back: new requests return to it only after the hysteresis of good probes', async () => {
    await takeDown(gpu);
    await untilState(h.ops, GPU, 'down');
    const routesAtGoodProbes: string[][] = [];
    const onProbe = (backend: string, result: { ok: boolean }) => {
      if (backend !== 'gpu') return;
      if (!result.ok) routesAtGoodProbes.length = 0;
      else routesAtGoodProbes.push(routeOf(h.ops, 'llama'));
    };
    h.ops.health.on('probe', onProbe);
    await bringUp(gpu);
    await untilState(h.ops, GPU, 'healthy');
    h.ops.health.off('probe', onProbe);

    // Closed by the CLOSE_AFTER-th good probe at the earliest; later when the cool-down (longer
    // after a failure on probation in an earlier test) has not yet run out.
    const firstBack = routesAtGoodProbes.findIndex((route) => route.includes(GPU));
    expect(firstBack).toBeGreaterThanOrEqual(CLOSE_AFTER - 1);
    expect(routesAtGoodProbes.slice(0, firstBack)).toEqual(Array(firstBack).fill([CPU]));
    expect(routesAtGoodProbes[firstBack]).toEqual([GPU, CPU]);
    const parts = await ask();
    expect(routeParts(parts).map((p) => p.deployment)).toEqual([GPU]);
  });

  it('flapping health (down/up/down quickly) does not flap routing', async () => {
    await takeDown(gpu);
    await untilState(h.ops, GPU, 'down');
    const routes: string[][] = [];
    const record = () => routes.push(routeOf(h.ops, 'llama'));
    h.ops.health.on('probe', record);
    for (let flap = 0; flap < 3; flap++) {
      await bringUp(gpu);
      for (let good = 0; good < CLOSE_AFTER - 1; good++) await gpuProbe(true);
      await takeDown(gpu);
      await gpuProbe(false);
    }
    h.ops.health.off('probe', record);
    expect(routes.length).toBeGreaterThanOrEqual(3 * CLOSE_AFTER);
    expect(routes.every((r) => r.join() === CPU)).toBe(true);
    expect(stateOf(h.ops, GPU)).toBe('down');
    const after = await ask();
    expect(routeParts(after).map((p) => p.deployment)).toEqual([CPU]);
  });

  it('a model whose every deployment is down is not available for pairing', async () => {
    await Promise.all([takeDown(gpu), takeDown(cpu)]);
    await Promise.all([untilState(h.ops, GPU, 'down'), untilState(h.ops, CPU, 'down')]);
    expect(h.registry.availableModels().map((m) => m.id)).toEqual([]);
    const parts = await ask();
    expect(parts).toHaveLength(1);
    expect(errorOf(parts)).toMatchObject({ error: { code: 'busy' } });

    await bringUp(cpu);
    await untilState(h.ops, CPU, 'healthy');
    expect(h.registry.availableModels().map((m) => m.id)).toEqual(['llama']);
    await bringUp(gpu);
  });

  it('a long vLLM queue makes the GPU degraded: new requests try the CPU first', async () => {
    const controller = new AbortController();
    const queued = Array.from({ length: 4 }, () => collect(h.registry.stream('llama', { messages, signal: controller.signal })));
    await untilState(h.ops, GPU, 'degraded');
    expect(routeOf(h.ops, 'llama')).toEqual([CPU, GPU]);
    const parts = await ask();
    expect(routeParts(parts).map((p) => p.deployment)).toEqual([CPU]);
    controller.abort();
    await Promise.all(queued);
  });
});
