import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, StreamPart } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';
import { NO_TOOLS, PLAIN, RELAXED, bringUp, nextStreamEnd, providerFor, takeDown, type Flavor } from './providers-sim-setup.js';

const API_KEY = 'sk-sim-5ecret-key-value';
const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me a long story about the sea.' }];
const answer = simulatedAnswer(PLAIN, messages);
/** Paced so a test can act between tokens. */
const PACED: SimModelSpec = { ...PLAIN, name: 'mistral:7b', tokensPerSecond: 50, maxTokens: 40 };

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe.each<Flavor>(['ollama', 'vllm'])('%s provider failures against the simulator', (flavor) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ flavor, models: [PLAIN, NO_TOOLS, PACED], apiKey: API_KEY, preloaded: true });
  });
  afterEach(() => sim.setFault({ kind: 'none' }));
  afterAll(() => sim.close());

  const provider = (timeouts = RELAXED) => providerFor(flavor, sim.url, timeouts, API_KEY);
  const run = async (model = PLAIN.name, timeouts = RELAXED, tools = false) =>
    summarize(
      await collect(
        provider(timeouts).stream({
          model,
          messages,
          tools: tools ? [{ name: 'get_weather', description: 'weather', parameters: { type: 'object' } }] : undefined,
        }),
      ),
    );

  it('maps an unknown model to model_not_found (404)', async () => {
    const { error } = await run('no-such-model');
    expect(error).toMatchObject({ code: 'model_not_found', status: 404, retryable: false });
    expect(error?.message).toContain('no-such-model');
  });

  it('maps 503 to busy', async () => {
    sim.setFault({ kind: 'unhealthy' });
    expect((await run()).error).toMatchObject({ code: 'busy', status: 503, retryable: true });
  });

  it('maps a refused request (tools on a model without them, 400) to bad_request', async () => {
    expect((await run(NO_TOOLS.name, RELAXED, true)).error).toMatchObject({ code: 'bad_request', status: 400, retryable: false });
  });

  it('reports an error sent inside the stream as server_error, after the text before it', async () => {
    sim.setFault({ kind: 'error_after', tokens: 3, message: 'CUDA out of memory' }, PLAIN.name);
    const s = await run();
    expect(s.text).toBe(answer.tokens.slice(0, 3).join(''));
    expect(s.error).toMatchObject({ code: 'server_error', retryable: true });
    expect(s.error?.message).toContain('CUDA out of memory');
  });

  it('reports a socket killed mid-stream as connection_reset', async () => {
    sim.setFault({ kind: 'die_after', tokens: 4 }, PLAIN.name);
    const s = await run();
    // Bytes still in the dying server's buffers are lost, so only a prefix is certain.
    expect(answer.tokens.slice(0, 4).join('').startsWith(s.text)).toBe(true);
    expect(s.error).toMatchObject({ code: 'connection_reset', retryable: true });
  });

  it('reports a server that is down as connection_refused', async () => {
    await takeDown(sim);
    try {
      expect((await run()).error).toMatchObject({ code: 'connection_refused', retryable: true });
    } finally {
      await bringUp(sim);
    }
  });

  it('times out when no token comes, and the backend sees the request closed', async () => {
    sim.setFault({ kind: 'hang' }, PLAIN.name);
    const ended = nextStreamEnd(sim, PLAIN.name);
    const s = await run(PLAIN.name, { ...RELAXED, firstTokenMs: 150 });
    expect(s.error?.code).toBe('first_token_timeout');
    expect((await ended).reason).toBe('client_closed');
  });

  it('times out when the stream stalls between tokens', async () => {
    sim.setFault({ kind: 'slow', factor: 15 }, PACED.name); // one token every 300 ms
    const ended = nextStreamEnd(sim, PACED.name);
    const s = await run(PACED.name, { ...RELAXED, idleMs: 120 });
    expect(s.text).not.toBe('');
    expect(s.error?.code).toBe('idle_timeout');
    expect((await ended).reason).toBe('client_closed');
  });

  it('cancels: the backend sees the client close promptly after abort()', async () => {
    const controller = new AbortController();
    const ended = nextStreamEnd(sim, PACED.name);
    const parts: StreamPart[] = [];
    let abortedAt = 0;
    for await (const part of provider().stream({ model: PACED.name, messages, signal: controller.signal })) {
      parts.push(part);
      if (part.type === 'text' && !abortedAt) {
        abortedAt = performance.now();
        controller.abort();
      }
    }
    const event = await ended;
    expect(event.reason).toBe('client_closed');
    // Margin: the abort reaches the simulator within a few ms; the whole answer would take 800 ms
    // (40 tokens at 50/s), so 400 ms tells the two apart on a loaded shared core.
    expect(performance.now() - abortedAt).toBeLessThan(400);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
  });

  if (flavor === 'vllm') {
    it('maps a wrong API key to auth (401) and never echoes the key', async () => {
      const wrongKey = 'sk-wrong-key-do-not-print';
      const s = summarize(await collect(providerFor(flavor, sim.url, RELAXED, wrongKey).stream({ model: PLAIN.name, messages })));
      expect(s.error).toMatchObject({ code: 'auth', status: 401, retryable: false });
      expect(s.error?.message).not.toContain(wrongKey);
    });
  }
});

describe.each<Flavor>(['ollama', 'vllm'])('%s connect timeout', (flavor) => {
  it('times out before headers while the backend is loading the model, and closes the request', async () => {
    // Both send response headers only once the model is loaded.
    const slowLoad: SimModelSpec = { ...PLAIN, loadMs: 3_000 };
    const sim = await startSimulator({ flavor, models: [slowLoad], preloaded: false });
    try {
      const ended = nextStreamEnd(sim, slowLoad.name);
      // Ollama's header wait is the first-token budget (it holds headers through a cold load).
      const timeouts = { ...RELAXED, connectMs: 150, ...(flavor === 'ollama' ? { firstTokenMs: 150 } : {}) };
      const s = summarize(await collect(providerFor(flavor, sim.url, timeouts).stream({ model: slowLoad.name, messages })));
      expect(s.error).toMatchObject({ code: 'connect_timeout', retryable: true });
      expect((await ended).reason).toBe('client_closed');
    } finally {
      await sim.close();
    }
  });
});

describe('ollama cold load', () => {
  it('is not cut off by the connect timeout when it fits the first-token budget', async () => {
    const slowLoad: SimModelSpec = { ...PLAIN, loadMs: 400 };
    const sim = await startSimulator({ flavor: 'ollama', models: [slowLoad], preloaded: false });
    try {
      const timeouts = { ...RELAXED, connectMs: 100, firstTokenMs: 5_000 };
      const s = summarize(await collect(providerFor('ollama', sim.url, timeouts).stream({ model: slowLoad.name, messages })));
      expect(s.error).toBeUndefined();
      expect(s.finish?.loadMs).toBeGreaterThanOrEqual(300);
    } finally {
      await sim.close();
    }
  });
});
