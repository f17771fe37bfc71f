/**
 * One skewed-load run against real simulator servers: a GPU (Ollama, or vLLM engines sharing it)
 * with room for 2 of 4 models, a CPU Ollama serving the same models, battles arriving at random
 * with ~80 % of the requests on two hot models. What the GPU holds is sampled from the backends
 * themselves (`/api/ps`, vLLM `/metrics`, `/_sim/state`), never from Arena's own view.
 */
import { ConfigSchema } from '../../server/config/schema.js';
import { silentLogger } from '../../server/infra/log.js';
import { createModelOps } from '../../server/models/ops.js';
import { ModelRegistry } from '../../server/models/registry.js';
import type { SwapOptions } from '../../server/models/swap.js';
import type { ChatMessage } from '../../server/providers/types.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { mulberry32 } from '../../server/random.js';
import { percentilesMs } from '../relay/histogram.js';

/** The GPU as one Ollama or as four vLLM engines; `*all-resident`: the same with room for all four. */
export type Variant = 'ollama' | 'vllm' | 'all-resident' | 'vllm-all-resident';

export interface ScenarioSettings {
  battles: number;
  battlesPerSecond: number;
  /** Share of picks going to each model, hot ones last in the preference order (so start-up preload picks the cold ones). */
  weights: number[];
  modelBytes: number;
  gpuMemory: string;
  gpu: Pick<SimModelSpec, 'ttftMs' | 'tokensPerSecond' | 'loadMs'>;
  cpu: Pick<SimModelSpec, 'ttftMs' | 'tokensPerSecond'>;
  maxTokens: number;
  sampleMs: number;
  seed: number;
  swap?: Partial<SwapOptions>;
}

export interface ScenarioResult {
  variant: Variant;
  battles: number;
  requests: number;
  hotShare: number;
  durationMs: number;
  samples: number;
  hotResidentPct: number;
  overBudgetMs: number;
  peakReportedMb: number;
  budgetMb: number;
  loadsAndUnloads: number;
  /** Loads (and sleeps) of the start-up preload, before any request. */
  startupLoads: number;
  leasedEvictions: number;
  chatsRefused: number;
  waitedForLoadPct: number;
  servedByGpuPct: number;
  ttftMs: { p50: number; p90: number; p99: number; n: number };
  errors: number;
  sleeps: number;
  wakes: number;
}

const NAMES = ['cold-a:7b', 'cold-b:7b', 'hot-a:7b', 'hot-b:7b'];
const HOT = NAMES.slice(2);
const MB = 2 ** 20;
const messages: ChatMessage[] = [{ role: 'user', content: 'Explain in two sentences why the sky is blue.' }];

export async function runScenario(variant: Variant, s: ScenarioSettings, log: (msg: string) => void): Promise<ScenarioResult> {
  const sizeMb = Math.round(s.modelBytes / MB);
  const spec = (name: string, timing: Partial<SimModelSpec>): SimModelSpec => ({ name, sizeMb, maxTokens: s.maxTokens, ...timing });
  const cpu = await startSimulator({ flavor: 'ollama', models: NAMES.map((n) => spec(n, s.cpu)), preloaded: true });
  const vllm = variant.startsWith('vllm');
  const gpuSims: Simulator[] =
    vllm
      ? await Promise.all(NAMES.map((n) => startSimulator({ flavor: 'vllm', models: [spec(n, s.gpu)], sleepMode: true })))
      : [await startSimulator({ flavor: 'ollama', models: NAMES.map((n) => spec(n, s.gpu)) })];
  // vLLM engines start asleep (launched with sleep mode, put to sleep by whoever started them).
  if (vllm) await Promise.all(gpuSims.map((g) => fetch(`${g.url}/sleep?level=1`, { method: 'POST' })));

  const allResident = variant.endsWith('all-resident');
  const gpuMemory = allResident ? '40GB' : s.gpuMemory;
  const backends =
    vllm
      ? gpuSims.map((g, i) => ({ id: `vllm-${i}`, kind: 'vllm', url: g.url, gpu: 'gpu0' }))
      : [{ id: 'gpu-ollama', kind: 'ollama', url: gpuSims[0]!.url, gpu: 'gpu0' }];
  const config = ConfigSchema.parse({
    gpus: [{ id: 'gpu0', memory: gpuMemory }],
    backends: [...backends, { id: 'cpu', kind: 'ollama', url: cpu.url }],
    models: NAMES.map((name, i) => ({
      id: name,
      deployments: [{ backend: vllm ? `vllm-${i}` : 'gpu-ollama', model: name, sizeMb }, { backend: 'cpu', model: name }],
    })),
    health: { intervalMs: 1000, timeoutMs: 1000 },
    timeouts: { connectMs: 5_000, firstTokenMs: 30_000, idleMs: 10_000 },
  });
  const budgetMb = config.gpus[0]!.budgetMb;
  const registry = new ModelRegistry(config, silentLogger);
  await registry.refresh();
  const ops = createModelOps({ config, registry, logger: silentLogger, swap: s.swap });

  // What the backends report: loads and unloads once the start-up preload is done (those are
  // counted apart), the rest from the moment Arena starts, until the load ends.
  const counters = { startup: 0, loadsAndUnloads: 0, leasedEvictions: 0, refused: 0, sleeps: 0, wakes: 0 };
  let phase: 'startup' | 'load' | 'done' = 'startup';
  const swapped = () => {
    if (phase === 'startup') counters.startup++;
    if (phase === 'load') counters.loadsAndUnloads++;
  };
  for (const g of gpuSims) {
    for (const event of ['load', 'unload'] as const) g.events.on(event, swapped);
    g.events.on('sleep', () => (swapped(), phase === 'load' && counters.sleeps++));
    g.events.on('wake', () => (swapped(), phase === 'load' && counters.wakes++));
    g.events.on('unload-request', (e: { running: number }) => e.running > 0 && counters.leasedEvictions++);
    g.events.on('sleep-request', (e: { running: number }) => e.running > 0 && counters.leasedEvictions++);
    g.events.on('refused', () => phase !== 'done' && counters.refused++);
  }
  const startedAt = performance.now();
  await ops.start();
  await ops.swap.rebalance();
  phase = 'load';
  if (allResident) log(`${variant}: every model preloaded`);

  const sampler = startSampler(variant, gpuSims, budgetMb, s.sampleMs);
  const rng = mulberry32(s.seed);
  const ttfts: number[] = [];
  let requests = 0;
  let hot = 0;
  let waited = 0;
  let onGpu = 0;
  let errors = 0;
  const side = async (model: string) => {
    requests++;
    if (HOT.includes(model)) hot++;
    const sent = performance.now();
    let first: number | undefined;
    let loading = false;
    let served = '';
    for await (const part of registry.stream(model, { messages })) {
      if (part.type === 'loading') loading = true;
      if (part.type === 'route') served = part.deployment;
      if (part.type === 'text' && first === undefined) first = performance.now() - sent;
      if (part.type === 'error') errors++;
    }
    if (first !== undefined) ttfts.push(first);
    if (loading) waited++;
    if (!served.startsWith('cpu/')) onGpu++;
  };
  const running: Promise<unknown>[] = [];
  for (let b = 0; b < s.battles; b++) {
    const [left, right] = pickPair(rng, s.weights);
    running.push(Promise.all([side(NAMES[left]!), side(NAMES[right]!)]));
    if (b % 20 === 19) log(`${variant}: ${b + 1}/${s.battles} battles`);
    await new Promise((r) => setTimeout(r, -Math.log(1 - rng()) * (1000 / s.battlesPerSecond)));
  }
  await Promise.all(running);
  phase = 'done';
  const samples = await sampler.stop();
  const durationMs = performance.now() - startedAt;
  await ops.stop();
  registry.stop();
  await Promise.all([cpu.close(), ...gpuSims.map((g) => g.close())]);

  const [p50, p90, p99] = percentilesMs(ttfts, [50, 90, 99]);
  return {
    variant,
    battles: s.battles,
    requests,
    hotShare: hot / requests,
    durationMs,
    samples: samples.count,
    hotResidentPct: (100 * samples.hotResident) / samples.count,
    overBudgetMs: samples.overBudgetMs,
    peakReportedMb: samples.peakMb,
    budgetMb,
    loadsAndUnloads: counters.loadsAndUnloads,
    startupLoads: counters.startup,
    leasedEvictions: counters.leasedEvictions,
    chatsRefused: counters.refused,
    waitedForLoadPct: (100 * waited) / requests,
    servedByGpuPct: (100 * onGpu) / requests,
    ttftMs: { p50: p50!, p90: p90!, p99: p99!, n: ttfts.length },
    errors,
    sleeps: counters.sleeps,
    wakes: counters.wakes,
  };
}

interface Samples {
  count: number;
  hotResident: number;
  overBudgetMs: number;
  peakMb: number;
}

/**
 * Every `everyMs`: the memory each GPU backend reports (Ollama `/api/ps` size_vram; the vLLM
 * simulator's `vllm:gpu_memory_usage_bytes`) summed, and whether both hot models are loaded
 * (`/_sim/state`: loaded, not loading; for vLLM, the engine awake). Time over budget is counted
 * from one sample to the next.
 */
function startSampler(variant: Variant, sims: Simulator[], budgetMb: number, everyMs: number): { stop(): Promise<Samples> } {
  const samples: Samples = { count: 0, hotResident: 0, overBudgetMs: 0, peakMb: 0 };
  let running = true;
  const loop = (async () => {
    let last = performance.now();
    let lastOver = false;
    while (running) {
      const [memoryMb, hotLoaded] = await Promise.all([reportedMb(variant, sims), hotResident(variant, sims)]);
      const now = performance.now();
      if (lastOver) samples.overBudgetMs += now - last;
      last = now;
      lastOver = memoryMb > budgetMb;
      samples.count++;
      if (hotLoaded) samples.hotResident++;
      samples.peakMb = Math.max(samples.peakMb, memoryMb);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

async function reportedMb(variant: Variant, sims: Simulator[]): Promise<number> {
  if (variant.startsWith('vllm')) {
    const texts = await Promise.all(sims.map(async (g) => (await fetch(`${g.url}/metrics`)).text()));
    return texts.reduce((sum, t) => sum + Number(/^vllm:gpu_memory_usage_bytes\s+(\S+)/m.exec(t)?.[1] ?? 0) / MB, 0);
  }
  const ps = (await (await fetch(`${sims[0]!.url}/api/ps`)).json()) as { models: Array<{ size_vram: number }> };
  return ps.models.reduce((sum, m) => sum + m.size_vram / MB, 0);
}

async function hotResident(variant: Variant, sims: Simulator[]): Promise<boolean> {
  const states = await Promise.all(sims.map(async (g) => (await (await fetch(`${g.url}/_sim/state`)).json()) as { loaded: string[]; sleeping: boolean }));
  if (variant.startsWith('vllm')) return HOT.every((_, i) => !states[NAMES.indexOf(HOT[i]!)]!.sleeping);
  return HOT.every((name) => states[0]!.loaded.includes(name));
}

function pickPair(rng: () => number, weights: number[]): [number, number] {
  const first = pick(rng, weights);
  const second = pick(rng, weights.map((w, i) => (i === first ? 0 : w)));
  return [first, second];
}

function pick(rng: () => number, weights: number[]): number {
  let r = rng() * weights.reduce((a, b) => a + b, 0);
  for (const [i, w] of weights.entries()) {
    r -= w;
    if (r < 0) return i;
  }
  return weights.length - 1;
}
