import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendSchema, type BackendConfig } from '../../server/config/schema.js';
import { discoverBackend } from '../../server/models/discovery.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { startTranscriptServer, transcript, type TranscriptServer } from '../fixtures/transcripts/server.js';
import { PLAIN, THINKS_IN_FIELD, bringUp, takeDown } from './providers-sim-setup.js';

const API_KEY = 'sk-disc-5ecret';
const backend = (kind: BackendConfig['kind'], url: string): BackendConfig => BackendSchema.parse({ id: kind, kind, url });

describe('discoverBackend', () => {
  let ollama: Simulator;
  let vllm: Simulator;
  let fixtures: TranscriptServer;
  beforeAll(async () => {
    [ollama, vllm, fixtures] = await Promise.all([
      startSimulator({ flavor: 'ollama', models: [{ ...PLAIN, sizeMb: 4900, contextLength: 131072 }, THINKS_IN_FIELD] }),
      startSimulator({ flavor: 'vllm', models: [{ ...PLAIN, name: 'meta-llama/Llama-3.1-8B-Instruct', contextLength: 16384 }], apiKey: API_KEY }),
      startTranscriptServer(),
    ]);
  });
  afterAll(() => Promise.all([ollama.close(), vllm.close(), fixtures.close()]));

  it('lists Ollama models with capabilities, context length and size from /api/tags and /api/show', async () => {
    const result = await discoverBackend(backend('ollama', ollama.url), { timeoutMs: 2_000 });
    expect(result).toEqual({
      ok: true,
      models: [
        { name: 'llama3.1:8b', capabilities: ['completion', 'tools'], contextLength: 131072, sizeMb: 4900 },
        { name: 'qwen3:4b', capabilities: ['completion', 'tools', 'thinking'], contextLength: 8192, sizeMb: 4000 },
      ],
    });
  });

  it('lists vLLM models with max_model_len and owner, sending the API key', async () => {
    const result = await discoverBackend(backend('vllm', vllm.url), { timeoutMs: 2_000, apiKey: API_KEY });
    expect(result).toEqual({
      ok: true,
      models: [{ name: 'meta-llama/Llama-3.1-8B-Instruct', capabilities: ['completion'], contextLength: 16384, ownedBy: 'vllm' }],
    });
  });

  it('explains an HTTP refusal without echoing the key it was given', async () => {
    const result = await discoverBackend(backend('vllm', vllm.url), { timeoutMs: 2_000, apiKey: 'sk-wrong-one' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^\/v1\/models answered HTTP 401: Unauthorized/);
    expect(result.error).not.toContain('sk-wrong-one');
  });

  it('keeps only chat models from OpenAI, gpt-* and o* with tools', async () => {
    fixtures.reply({ body: transcript('openai-models.json') });
    const result = await discoverBackend(backend('openai', `${fixtures.url}/v1`), { timeoutMs: 2_000, apiKey: API_KEY });
    expect(fixtures.requests.at(-1)).toMatchObject({ path: '/v1/models', headers: { authorization: `Bearer ${API_KEY}` } });
    expect(result).toEqual({
      ok: true,
      models: [
        { name: 'gpt-4o-mini', ownedBy: 'system', capabilities: ['completion', 'tools'] },
        { name: 'o3-mini', ownedBy: 'system', capabilities: ['completion', 'tools'] },
        { name: 'gpt-4.1', ownedBy: 'system', capabilities: ['completion', 'tools'] },
        { name: 'chatgpt-4o-latest', ownedBy: 'system', capabilities: ['completion', 'tools'] },
      ],
    });
  });

  it('reports an unreachable backend with the socket error', async () => {
    await takeDown(ollama);
    try {
      const result = await discoverBackend(backend('ollama', ollama.url), { timeoutMs: 2_000 });
      expect(result).toEqual({ ok: false, error: `connect ECONNREFUSED 127.0.0.1:${ollama.port}` });
    } finally {
      await bringUp(ollama);
    }
  });

  it('gives up after the timeout', async () => {
    fixtures.reply({ holdHeaders: true });
    const result = await discoverBackend(backend('vllm', fixtures.url), { timeoutMs: 100 });
    expect(result).toEqual({ ok: false, error: 'no answer within 100 ms' });
  });

  it('reports an answer that is not JSON', async () => {
    fixtures.reply({ body: Buffer.from('<html>proxy error</html>') });
    const result = await discoverBackend(backend('vllm', fixtures.url), { timeoutMs: 2_000 });
    expect(result).toEqual({ ok: false, error: '/v1/models answered something that is not JSON' });
  });
});
