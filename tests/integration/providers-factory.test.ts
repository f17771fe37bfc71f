import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendSchema } from '../../server/config/schema.js';
import { createProvider } from '../../server/providers/index.js';
import { simulatedAnswer, startSimulator, type Simulator } from '../../server/sim/index.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';
import { PLAIN, RELAXED } from './providers-sim-setup.js';

const API_KEY = 'sk-factory-5ecret';
const messages = [{ role: 'user' as const, content: 'Name a colour.' }];

describe('createProvider', () => {
  let ollama: Simulator;
  let vllm: Simulator;
  beforeAll(async () => {
    [ollama, vllm] = await Promise.all([
      startSimulator({ flavor: 'ollama', models: [PLAIN] }),
      startSimulator({ flavor: 'vllm', models: [PLAIN], apiKey: API_KEY }),
    ]);
  });
  afterAll(() => Promise.all([ollama.close(), vllm.close()]));

  it('speaks the native API to an Ollama backend', async () => {
    const provider = createProvider(BackendSchema.parse({ id: 'cpu', kind: 'ollama', url: ollama.url }), { timeouts: RELAXED });
    expect(provider.kind).toBe('ollama');
    const s = summarize(await collect(provider.stream({ model: PLAIN.name, messages })));
    expect(s.text).toBe(simulatedAnswer(PLAIN, messages).text);
  });

  it('speaks the OpenAI API to vLLM with the key read from the named environment variable', async () => {
    const backend = BackendSchema.parse({ id: 'gpu', kind: 'vllm', url: vllm.url, apiKeyEnv: 'GPU_API_KEY' });
    const provider = createProvider(backend, { timeouts: RELAXED, env: { GPU_API_KEY: API_KEY } });
    expect(provider.kind).toBe('vllm');
    const s = summarize(await collect(provider.stream({ model: PLAIN.name, messages })));
    expect(s.text).toBe(simulatedAnswer(PLAIN, messages).text);
  });

  it('sends no key when the variable is unset, and the backend refuses', async () => {
    const backend = BackendSchema.parse({ id: 'gpu', kind: 'vllm', url: vllm.url, apiKeyEnv: 'GPU_API_KEY' });
    const provider = createProvider(backend, { timeouts: RELAXED, env: {} });
    expect(summarize(await collect(provider.stream({ model: PLAIN.name, messages }))).error?.code).toBe('auth');
  });

  it('builds an OpenAI provider for kind openai', () => {
    const provider = createProvider(BackendSchema.parse({ id: 'oai', kind: 'openai', url: 'https://api.openai.com/v1' }), { timeouts: RELAXED, env: {} });
    expect(provider.kind).toBe('openai');
  });
});
