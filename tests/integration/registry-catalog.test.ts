import { describe, expect, it } from 'vitest';
import { BackendSchema, ModelSchema } from '../../server/config/schema.js';
import { buildCatalog } from '../../server/models/catalog.js';
import type { DiscoveryResult } from '../../server/models/discovery.js';

/** The pure merge behind the registry: discovery results in, arena models and report out. */

const cpu = BackendSchema.parse({ id: 'cpu', kind: 'ollama', url: 'http://10.0.0.2:11434' });
const gpu = BackendSchema.parse({ id: 'gpu', kind: 'vllm', url: 'http://admin:hunter2@10.0.0.3:8000/', gpu: true });
const model = (name: string, capabilities = ['completion'], contextLength?: number) => ({ name, capabilities, contextLength });

describe('buildCatalog', () => {
  it('matches Ollama names with or without the :latest tag', () => {
    const configured = [ModelSchema.parse({ id: 'mistral', deployments: [{ backend: 'cpu', model: 'mistral' }] })];
    const found = new Map<string, DiscoveryResult>([['cpu', { ok: true, models: [model('mistral:latest')] }]]);
    const { models } = buildCatalog([cpu], configured, found, new Date(0));
    expect(models[0]?.deployments.map((d) => d.key)).toEqual(['cpu/mistral:latest']);
  });

  it('lists at most ten served names in a missing-model reason', () => {
    const served = Array.from({ length: 13 }, (_, i) => model(`m${i}`));
    const configured = [ModelSchema.parse({ id: 'x', deployments: [{ backend: 'cpu', model: 'x' }] })];
    const { report } = buildCatalog([cpu], configured, new Map([['cpu', { ok: true, models: served }]]), new Date(0));
    expect(report.models[0]?.reason).toBe('backend "cpu" does not serve "x" (it serves: m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, and 3 more)');
  });

  it('joins the reasons of every deployment when none can serve', () => {
    const configured = [
      ModelSchema.parse({ id: 'x', deployments: [{ backend: 'gpu', model: 'x' }, { backend: 'cpu', model: 'x' }] }),
    ];
    const found = new Map<string, DiscoveryResult>([
      ['gpu', { ok: false, error: 'no answer within 3000 ms' }],
      ['cpu', { ok: true, models: [] }],
    ]);
    const { report, models } = buildCatalog([cpu, gpu], configured, found, new Date(0));
    expect(models).toEqual([]);
    expect(report.models[0]?.reason).toBe(
      'backend "gpu" unreachable: no answer within 3000 ms; backend "cpu" does not serve "x" (it serves no models)',
    );
  });

  it('says so before the first discovery instead of guessing', () => {
    const configured = [ModelSchema.parse({ id: 'x', deployments: [{ backend: 'cpu', model: 'x' }] })];
    const { report } = buildCatalog([cpu], configured, new Map(), null);
    expect(report.refreshedAt).toBeNull();
    expect(report.models[0]).toMatchObject({ status: 'missing', reason: 'backend "cpu" has not been checked yet' });
    expect(report.backends[0]).toMatchObject({ ok: false, error: 'not checked yet' });
  });

  it('auto mode skips embedding-only models and keeps the smallest context and all capabilities', () => {
    const found = new Map<string, DiscoveryResult>([
      ['cpu', { ok: true, models: [model('nomic-embed-text', ['embedding']), model('llama3.1:8b', ['completion', 'tools'], 131072)] }],
      ['gpu', { ok: true, models: [model('llama3.1:8b', ['completion', 'vision'], 16384)] }],
    ]);
    const { models } = buildCatalog([cpu, gpu], [], found, new Date(0));
    expect(models).toEqual([
      {
        id: 'llama3.1:8b',
        label: 'llama3.1:8b',
        deployments: [
          { key: 'gpu/llama3.1:8b', backendId: 'gpu', model: 'llama3.1:8b', gpu: true, capabilities: ['completion', 'vision'], contextLength: 16384 },
          { key: 'cpu/llama3.1:8b', backendId: 'cpu', model: 'llama3.1:8b', gpu: false, capabilities: ['completion', 'tools'], contextLength: 131072 },
        ],
        capabilities: ['completion', 'vision', 'tools'],
        contextLength: 16384,
        leakWords: undefined,
      },
    ]);
  });

  it('never shows credentials embedded in a backend URL', () => {
    const { report } = buildCatalog([gpu], [], new Map([['gpu', { ok: true, models: [] }]]), new Date(0));
    expect(report.backends[0]?.url).toBe('http://10.0.0.3:8000');
    expect(JSON.stringify(report)).not.toContain('hunter2');
  });

  it('carries leak words of configured models through to the arena model', () => {
    const configured = [ModelSchema.parse({ id: 'x', deployments: [{ backend: 'cpu', model: 'x' }], leakWords: ['Meta'] })];
    const { models } = buildCatalog([cpu], configured, new Map([['cpu', { ok: true, models: [model('x')] }]]), new Date(0));
    expect(models[0]?.leakWords).toEqual(['Meta']);
  });
});
