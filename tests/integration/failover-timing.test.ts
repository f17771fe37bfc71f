import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/providers/types.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { routeOf, startOps, untilState, type OpsHarness } from './failover-setup.js';

/**
 * Failover times against real faults, recorded in docs/benchmarks.md: fault → first request
 * served by the CPU, idle fault → GPU marked down, GPU killed mid-answer → first CPU token (and
 * → GPU marked down), recovery → traffic back on the GPU (the hysteresis: `closeAfter` good probes).
 */

const LLAMA: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 300, ttftMs: 15, loadMs: 20, maxTokens: 40 };
const GPU = `gpu/${LLAMA.name}`;
const CPU = `cpu/${LLAMA.name}`;
const INTERVAL_MS = 200;
const PROBE_TIMEOUT_MS = 500;
/**
 * Upper bound on a failover's first token: far below the 5 s connect timeout, so a failover that
 * waits for a timeout still fails. Measured 37–315 ms, one outlier at 643 ms, with 2 cores shared
 * by parallel test runs (load average ~13); the figures themselves belong to docs/benchmarks.md.
 */
const FAILOVER_BOUND_MS = 2_000;
const CLOSE_AFTER = 3;
const ROUNDS = 3;
const messages: ChatMessage[] = [{ role: 'user', content: 'Why is the sky blue?' }];

describe('failover timing', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let h: OpsHarness;
  const results: Record<string, number[]> = {
    faultToCpuFirstToken: [],
    idleFaultDetected: [],
    midStreamGap: [],
    midStreamKillDetected: [],
    recoveryToGpu: [],
  };

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [LLAMA] }),
      startSimulator({ flavor: 'ollama', models: [LLAMA], preloaded: true }),
    ]);
    h = await startOps({
      backends: [
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: [{ id: 'llama', deployments: [{ backend: 'gpu', model: LLAMA.name }, { backend: 'cpu', model: LLAMA.name }] }],
      health: { intervalMs: INTERVAL_MS, timeoutMs: PROBE_TIMEOUT_MS, closeAfter: CLOSE_AFTER },
    });
  });
  afterAll(async () => {
    console.log(`failover timing (ms; probe interval ${INTERVAL_MS}, closeAfter ${CLOSE_AFTER}, ${ROUNDS} rounds)`);
    console.table(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(v)])));
    await h.close();
    await Promise.all([gpu.close(), cpu.close()]);
  });

  /** Milliseconds from `since` until the request's first text token, and where that token came from. */
  async function firstToken(since: number, maxTokens?: number): Promise<{ ms: number; deployment: string }> {
    let deployment = '';
    let ms = NaN;
    for await (const part of h.registry.stream('llama', { messages, maxTokens })) {
      if (part.type === 'route') deployment = part.deployment;
      if (part.type === 'text' && Number.isNaN(ms)) ms = performance.now() - since;
    }
    return { ms, deployment };
  }

  async function recover(): Promise<number> {
    const up = once(gpu.events, 'up');
    gpu.setFault({ kind: 'none' });
    await up;
    const since = performance.now();
    for (;;) {
      const { deployment } = await firstToken(since, 2);
      if (deployment === GPU) return performance.now() - since;
    }
  }

  it('fault → the first request is served by the CPU, waiting for no timeout', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const down = once(gpu.events, 'down');
      gpu.setFault({ kind: 'down' });
      await down;
      const { ms, deployment } = await firstToken(performance.now());
      expect(deployment).toBe(CPU);
      results.faultToCpuFirstToken!.push(ms);
      results.recoveryToGpu!.push(await recover());
    }
    expect(results.faultToCpuFirstToken).toHaveLength(ROUNDS);
    expect(results.faultToCpuFirstToken!.every(Number.isFinite)).toBe(true);
    expect(Math.max(...results.faultToCpuFirstToken!)).toBeLessThan(FAILOVER_BOUND_MS);
  });

  it('idle fault → marked down within one probe interval', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const down = once(gpu.events, 'down');
      gpu.setFault({ kind: 'down' });
      await down;
      const since = performance.now();
      await untilState(h.ops, GPU, 'down');
      results.idleFaultDetected!.push(performance.now() - since);
      expect(routeOf(h.ops, 'llama')).toEqual([CPU]);
      results.recoveryToGpu!.push(await recover());
    }
    expect(results.idleFaultDetected).toHaveLength(ROUNDS);
    // Margin: detection is due within one probe interval; 250 ms on top for a loaded shared core
    // (measured 125–172 ms under parallel test load).
    expect(Math.max(...results.idleFaultDetected!)).toBeLessThan(INTERVAL_MS + 250);
  });

  it('GPU killed mid-answer → the first CPU token follows, waiting for no timeout', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      let texts = 0;
      let killedAt = 0;
      let resumed = false;
      let gap = NaN;
      for await (const part of h.registry.stream('llama', { messages })) {
        if (part.type === 'route' && part.resumed) resumed = true;
        if (part.type !== 'text') continue;
        if (++texts === 5) {
          killedAt = performance.now();
          gpu.setFault({ kind: 'down' });
        }
        if (resumed && Number.isNaN(gap)) gap = performance.now() - killedAt;
      }
      results.midStreamGap!.push(gap);
      await untilState(h.ops, GPU, 'down');
      results.midStreamKillDetected!.push(performance.now() - killedAt);
      results.recoveryToGpu!.push(await recover());
    }
    expect(results.midStreamGap).toHaveLength(ROUNDS);
    expect(results.midStreamGap!.every(Number.isFinite)).toBe(true);
    expect(results.midStreamKillDetected).toHaveLength(ROUNDS);
    // The resumed first token waits for no timeout (measured 24–128 ms under load); detection is
    // due within one probe interval (margin as above).
    expect(Math.max(...results.midStreamGap!)).toBeLessThan(FAILOVER_BOUND_MS);
    expect(Math.max(...results.midStreamKillDetected!)).toBeLessThan(INTERVAL_MS + 250);
  });

  it('recovery → traffic back on the GPU after the hysteresis, not before', async () => {
    // Its own rounds (the tests above add theirs when they run): run alone, it still measures.
    for (let round = 0; round < ROUNDS; round++) {
      const down = once(gpu.events, 'down');
      gpu.setFault({ kind: 'down' });
      await down;
      await untilState(h.ops, GPU, 'down');
      results.recoveryToGpu!.push(await recover());
    }
    expect(results.recoveryToGpu!.length).toBeGreaterThanOrEqual(ROUNDS);
    // The floor is the hysteresis itself (load only makes recovery slower), so it has no margin.
    const floor = (CLOSE_AFTER - 1) * INTERVAL_MS;
    expect(Math.min(...results.recoveryToGpu!)).toBeGreaterThanOrEqual(floor);
    // Margin: recovery is due after CLOSE_AFTER good probes (~600 ms; measured 635–999 ms under
    // parallel test load); two intervals plus 500 ms on top for a loaded shared core.
    expect(Math.max(...results.recoveryToGpu!)).toBeLessThan((CLOSE_AFTER + 2) * INTERVAL_MS + 500);
  });
});

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return { n: values.length, min: Math.round(sorted[0] ?? NaN), median: Math.round(median), max: Math.round(sorted.at(-1) ?? NaN) };
}
