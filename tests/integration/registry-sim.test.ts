import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../../server/config/schema.js';
import { ModelRegistry, type ModelChange } from '../../server/models/registry.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { PLAIN, THINKS_IN_FIELD, bringUp, takeDown } from './providers-sim-setup.js';

const API_KEY = 'sk-registry-5ecret-value';
const ENV = { GPU_KEY: API_KEY };
const VLLM_ONLY = { ...PLAIN, name: 'Qwen/Qwen3-8B', contextLength: 32768 };

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

const nextChange = (registry: ModelRegistry) => new Promise<ModelChange[]>((resolve) => registry.once('change', resolve));

describe('ModelRegistry against an Ollama and a vLLM simulator', () => {
  let cpu: Simulator; // ollama
  let gpu: Simulator; // vllm
  beforeAll(async () => {
    [cpu, gpu] = await Promise.all([
      startSimulator({ flavor: 'ollama', models: [{ ...PLAIN, contextLength: 131072 }, THINKS_IN_FIELD] }),
      startSimulator({ flavor: 'vllm', models: [{ ...PLAIN, contextLength: 16384 }, VLLM_ONLY], apiKey: API_KEY }),
    ]);
  });
  afterAll(() => Promise.all([cpu.close(), gpu.close()]));

  function config(models: unknown[]): Config {
    return ConfigSchema.parse({
      // CPU declared first on purpose: auto mode must still put the GPU backend first.
      backends: [
        { id: 'cpu', kind: 'ollama', url: cpu.url },
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true, apiKeyEnv: 'GPU_KEY' },
      ],
      models,
      discovery: { timeoutMs: 1_000 },
    });
  }

  const CONFIGURED = [
    {
      id: 'llama-8b',
      label: 'Llama 3.1 8B',
      deployments: [
        { backend: 'gpu', model: 'llama3.1:8b' },
        { backend: 'cpu', model: 'llama3.1:8b' },
      ],
    },
    { id: 'qwen-big', deployments: [{ backend: 'gpu', model: 'Qwen/Qwen3-8B' }] },
    { id: 'ghost', deployments: [{ backend: 'cpu', model: 'ghost:1b' }] },
  ];

  it('merges a logical model served by two backends, in configured order', async () => {
    const registry = new ModelRegistry(config(CONFIGURED), memoryLogger().log, { env: ENV });
    await registry.refresh();
    const llama = registry.model('llama-8b');
    expect(llama).toMatchObject({
      label: 'Llama 3.1 8B',
      deployments: [
        { key: 'gpu/llama3.1:8b', backendId: 'gpu', gpu: true },
        { key: 'cpu/llama3.1:8b', backendId: 'cpu', gpu: false },
      ],
      contextLength: 16384,
    });
    expect(llama?.capabilities.sort()).toEqual(['completion', 'tools']);
    expect(registry.availableModels().map((m) => m.id)).toEqual(['llama-8b', 'qwen-big']);
    expect(registry.toolCapableModels().map((m) => m.id)).toEqual(['llama-8b']);
  });

  it('reports a configured model that no backend serves, with a readable reason and a warning', async () => {
    const { log, lines } = memoryLogger();
    const registry = new ModelRegistry(config(CONFIGURED), log, { env: ENV });
    await registry.refresh();
    const report = registry.report();
    expect(report.mode).toBe('configured');
    expect(report.models.find((m) => m.id === 'ghost')).toEqual({
      id: 'ghost',
      label: 'ghost',
      status: 'missing',
      reason: 'backend "cpu" does not serve "ghost:1b" (it serves: llama3.1:8b, qwen3:4b)',
      deployments: [
        {
          deployment: 'cpu/ghost:1b',
          backend: 'cpu',
          model: 'ghost:1b',
          status: 'missing',
          reason: 'backend "cpu" does not serve "ghost:1b" (it serves: llama3.1:8b, qwen3:4b)',
        },
      ],
      capabilities: [],
    });
    expect(report.backends).toEqual([
      { id: 'cpu', kind: 'ollama', url: cpu.url, gpu: false, demo: false, ok: true, models: ['llama3.1:8b', 'qwen3:4b'] },
      { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true, demo: false, ok: true, models: ['llama3.1:8b', 'Qwen/Qwen3-8B'] },
    ]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, model: 'ghost', msg: 'model missing', reason: expect.stringContaining('ghost:1b') }));
    expect(JSON.stringify(report)).not.toContain(API_KEY);
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
  });

  it('reports a model missing because its backend is down, and announces the changes both ways', async () => {
    const { log, lines } = memoryLogger();
    const registry = new ModelRegistry(config(CONFIGURED), log, { env: ENV });
    await registry.refresh();

    await takeDown(gpu);
    const lost = nextChange(registry);
    try {
      await registry.refresh();
    } finally {
      await bringUp(gpu);
    }
    expect(await lost).toEqual([
      { id: 'llama-8b', before: 'available', after: 'available', deployments: ['cpu/llama3.1:8b'] },
      {
        id: 'qwen-big',
        before: 'available',
        after: 'missing',
        deployments: [],
        reason: `backend "gpu" unreachable: connect ECONNREFUSED 127.0.0.1:${gpu.port}`,
      },
    ]);
    expect(registry.report().backends.find((b) => b.id === 'gpu')).toMatchObject({ ok: false, error: `connect ECONNREFUSED 127.0.0.1:${gpu.port}` });
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, model: 'qwen-big', msg: 'model missing' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, backend: 'gpu', msg: 'backend unreachable' }));

    const regained = nextChange(registry);
    await registry.refresh();
    expect((await regained).map((c) => [c.id, c.after, c.deployments])).toEqual([
      ['llama-8b', 'available', ['gpu/llama3.1:8b', 'cpu/llama3.1:8b']],
      ['qwen-big', 'available', ['gpu/Qwen/Qwen3-8B']],
    ]);
  });

  it('emits no change when nothing changed', async () => {
    const registry = new ModelRegistry(config(CONFIGURED), memoryLogger().log, { env: ENV });
    const changes: ModelChange[][] = [];
    registry.on('change', (c) => changes.push(c));
    await registry.refresh();
    await registry.refresh();
    expect(changes).toHaveLength(1);
    expect(changes[0]?.map((c) => [c.id, c.before, c.after])).toEqual([
      ['llama-8b', 'absent', 'available'],
      ['qwen-big', 'absent', 'available'],
      ['ghost', 'absent', 'missing'],
    ]);
  });

  it('auto mode: every discovered chat model becomes an arena model, one name on two backends is one model, GPU first', async () => {
    const registry = new ModelRegistry(config([]), memoryLogger().log, { env: ENV });
    await registry.refresh();
    const models = registry.availableModels();
    expect(models.map((m) => [m.id, m.deployments.map((d) => d.key)])).toEqual([
      ['llama3.1:8b', ['gpu/llama3.1:8b', 'cpu/llama3.1:8b']],
      ['Qwen/Qwen3-8B', ['gpu/Qwen/Qwen3-8B']],
      ['qwen3:4b', ['cpu/qwen3:4b']],
    ]);
    expect(registry.report().mode).toBe('auto');
    expect(registry.report().models.every((m) => m.status === 'available')).toBe(true);
  });

  it('shares one refresh between concurrent callers', async () => {
    const registry = new ModelRegistry(config(CONFIGURED), memoryLogger().log, { env: ENV });
    const refreshing = registry.refresh();
    expect(registry.refresh()).toBe(refreshing);
    await refreshing;
    expect(registry.refresh()).not.toBe(refreshing);
    await registry.refresh();
  });

  it('refreshes periodically once started, until stopped', async () => {
    const registry = new ModelRegistry(config(CONFIGURED), memoryLogger().log, { env: ENV });
    const first = nextChange(registry);
    registry.start(50);
    await first;
    const noticed = nextChange(registry);
    await takeDown(gpu);
    try {
      const changes = await noticed;
      expect(changes.find((c) => c.id === 'qwen-big')?.after).toBe('missing');
    } finally {
      registry.stop();
      await bringUp(gpu);
    }
  });
});
