import { afterEach, describe, expect, it } from 'vitest';
import type { SimFault, SimModelSpec, SimRequestEvent, Simulator } from '../../server/sim/index.js';
import { startSimulator } from '../../server/sim/index.js';
import type { StatusSnapshot } from '../../src/lib/shared/status.js';
import { ok, recordFrames, startTestArena, type TestArena } from '../helpers/arena.js';

/**
 * The breaker opens on real request failures while the GPU's health probe keeps passing: a GPU
 * that hangs, dies mid-answer or crawls. Each fault, in a fresh arena: every battle (two models,
 * each on a GPU vLLM with a CPU Ollama copy) fails on the GPU and is served by the CPU; after 3
 * failed requests per deployment, battles go straight to the CPU, first token in under 1 s.
 */

const MODELS: SimModelSpec[] = [
  { name: 'mdl-aurora:1b', family: 'aurora', tokensPerSecond: 400, ttftMs: 5, maxTokens: 40 },
  { name: 'mdl-borealis:2b', family: 'borealis', tokensPerSecond: 400, ttftMs: 5, maxTokens: 40 },
];
const OPEN_AFTER = 3;
const ADMIN = 'admin-token-for-breaker-tests';

interface Rig {
  arena: TestArena;
  gpu: Simulator;
  gpuRequests: SimRequestEvent[];
}

async function startRig(fault: SimFault, gpuFlavor: 'vllm' | 'ollama'): Promise<Rig> {
  const [gpu, cpu] = await Promise.all([
    startSimulator({ flavor: gpuFlavor, models: MODELS, preloaded: true }),
    startSimulator({ flavor: 'ollama', models: MODELS, preloaded: true }),
  ]);
  const arena = await startTestArena({
    sim: cpu,
    config: {
      backends: [
        { id: 'gpu', kind: gpuFlavor, url: gpu.url, gpu: true },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: MODELS.map((m) => ({ id: m.family!, deployments: [{ backend: 'gpu', model: m.name }, { backend: 'cpu', model: m.name }] })),
      timeouts: { connectMs: 2_000, firstTokenMs: 400, idleMs: 400 },
      // Probes every 50 ms all pass (the fault is in chat only); a long cool-down keeps a tripped GPU out for the test.
      health: { intervalMs: 50, timeoutMs: 500, openAfter: OPEN_AFTER, coolDownMs: 60_000, minTokensPerSecond: 100 },
      limits: { battlesPerMinute: 100 },
      adminToken: ADMIN,
    },
  });
  gpu.setFault(fault);
  const gpuRequests: SimRequestEvent[] = [];
  gpu.events.on('request', (e: SimRequestEvent) => gpuRequests.push(e));
  return { arena, gpu, gpuRequests };
}

/** One battle to its end; ms from start to each side's first text. */
async function battle(rig: Rig): Promise<{ firstTokenMs: number[]; gpuRequests: number; texts: string[] }> {
  const client = await rig.arena.client();
  const rec = recordFrames(client);
  const before = rig.gpuRequests.length;
  const startedAt = performance.now();
  const firstAt: Partial<Record<'left' | 'right', number>> = {};
  client.on('battle:events', (frame) => {
    for (const e of frame.events) if (e.t === 'delta' && e.text && firstAt[e.side] === undefined) firstAt[e.side] = performance.now();
  });
  const { battle: b } = await ok(client, 'battle:start', { prompt: 'Explain in detail how bridges are built and why they stand.' });
  await rec.settled(b.id);
  const ends = rec.events(b.id).filter((e) => e.t === 'end');
  expect(ends.map((e) => e.t === 'end' && e.status)).toEqual(['done', 'done']);
  client.close();
  return {
    firstTokenMs: (['left', 'right'] as const).map((s) => firstAt[s]! - startedAt),
    gpuRequests: rig.gpuRequests.length - before,
    texts: (['left', 'right'] as const).map((s) => rec.text(b.id, s)),
  };
}

// The GPU speaks vLLM's protocol (the openai SDK reads it) or Ollama's (node:http, server/providers/http-stream.ts).
const FAULTS: Array<[string, SimFault, 'vllm' | 'ollama']> = [
  ['vLLM: hang (headers, then nothing)', { kind: 'hang' }, 'vllm'],
  ['vLLM: die after 4 tokens', { kind: 'die_after', tokens: 4 }, 'vllm'],
  ['vLLM: too slow (1/8 of its speed, under minTokensPerSecond)', { kind: 'slow', factor: 8 }, 'vllm'],
  ['Ollama: hang (headers, then nothing)', { kind: 'hang' }, 'ollama'],
  ['Ollama: die after 4 tokens', { kind: 'die_after', tokens: 4 }, 'ollama'],
];

describe('breaker: real request failures open it while the probe passes', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    if (!rig) return;
    await rig.arena.close();
    await rig.gpu.close();
    rig = undefined;
  });

  it.each(FAULTS)('%s: after 3 failed requests battles go straight to the CPU, first token < 1 s', async (_name, fault, gpuFlavor) => {
    rig = await startRig(fault, gpuFlavor);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    try {
      for (let i = 0; i < OPEN_AFTER; i++) {
        const failing = await battle(rig);
        expect(failing.gpuRequests).toBe(2); // both sides tried the GPU, failed, and were served by the CPU
        for (const text of failing.texts) expect(text.length).toBeGreaterThan(20);
      }
      const straight = [await battle(rig), await battle(rig)];
      expect(straight.map((b) => b.gpuRequests)).toEqual([0, 0]);
      const firstTokens = straight.flatMap((b) => b.firstTokenMs);
      expect(firstTokens).toHaveLength(4);
      for (const ms of firstTokens) expect(ms).toBeLessThan(1_000);
      const res = await fetch(`${rig.arena.url}/api/admin/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const gpu = ((await res.json()) as StatusSnapshot).backends.find((b) => b.id === 'gpu')!;
      expect(gpu.deployments.map((d) => d.state)).toEqual(['down', 'down']);
      expect(gpu.reachable).toBe(true); // the probe still passes
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
