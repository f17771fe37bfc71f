import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../server/config/schema.js';
import type { RoutedPart } from '../../server/models/failover.js';
import { ModelRegistry } from '../../server/models/registry.js';
import { silentLogger } from '../../server/infra/log.js';
import type { ChatMessage, StreamPart } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';
import { NO_TOOLS, bringUp, nextStreamEnd, takeDown } from './providers-sim-setup.js';

/** The same model on both backends, paced so faults land mid-answer. */
const LLAMA: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 300, ttftMs: 15, loadMs: 20, capabilities: ['completion', 'tools'], maxTokens: 40 };
const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me about the history of bridges.' }];
const uninterrupted = simulatedAnswer(LLAMA, messages).text;

const routes = (parts: RoutedPart[]) => parts.filter((p) => p.type === 'route');
const streamParts = (parts: RoutedPart[]) => parts.filter((p): p is StreamPart => p.type !== 'route');

describe('registry.stream: one call site, failover across deployments', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let registry: ModelRegistry;

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [LLAMA, NO_TOOLS] }),
      startSimulator({ flavor: 'ollama', models: [LLAMA, NO_TOOLS], preloaded: true }),
    ]);
    const config = ConfigSchema.parse({
      backends: [
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: [
        { id: 'llama', deployments: [{ backend: 'gpu', model: LLAMA.name }, { backend: 'cpu', model: LLAMA.name }] },
        { id: 'phi', deployments: [{ backend: 'gpu', model: NO_TOOLS.name }, { backend: 'cpu', model: NO_TOOLS.name }] },
      ],
      timeouts: { connectMs: 2_000, firstTokenMs: 2_000, idleMs: 2_000 },
    });
    registry = new ModelRegistry(config, silentLogger);
    await registry.refresh();
  });
  afterEach(() => {
    gpu.setFault({ kind: 'none' });
    cpu.setFault({ kind: 'none' });
    registry.setDeploymentPicker((model) => model.deployments);
  });
  afterAll(() => Promise.all([gpu.close(), cpu.close()]));

  it('streams from the first deployment when it is healthy', async () => {
    const parts = await collect(registry.stream('llama', { messages }));
    expect(routes(parts)).toEqual([{ type: 'route', deployment: 'gpu/llama3.1:8b', attempt: 1, resumed: false }]);
    expect(parts[0]?.type).toBe('route');
    expect(summarize(streamParts(parts))).toMatchObject({ text: uninterrupted, terminals: 1, terminalIsLast: true });
  });

  it('fails over before the first token: first deployment down, the second serves the exact answer', async () => {
    await takeDown(gpu);
    try {
      const parts = await collect(registry.stream('llama', { messages }));
      expect(routes(parts)).toEqual([
        { type: 'route', deployment: 'gpu/llama3.1:8b', attempt: 1, resumed: false },
        { type: 'route', deployment: 'cpu/llama3.1:8b', attempt: 2, resumed: false },
      ]);
      const s = summarize(streamParts(parts));
      expect(s.text).toBe(uninterrupted);
      expect(s).toMatchObject({ terminals: 1, terminalIsLast: true });
      expect(s.error).toBeUndefined();
    } finally {
      await bringUp(gpu);
    }
  });

  it.each([
    ['the connection dies', { kind: 'die_after', tokens: 6 } as const],
    ['the backend reports an error', { kind: 'error_after', tokens: 6 } as const],
  ])('resumes mid-stream on the next deployment when %s, keeping the text continuous', async (_what, fault) => {
    gpu.setFault(fault, LLAMA.name);
    const parts = await collect(registry.stream('llama', { messages }));
    expect(routes(parts)).toEqual([
      { type: 'route', deployment: 'gpu/llama3.1:8b', attempt: 1, resumed: false },
      { type: 'route', deployment: 'cpu/llama3.1:8b', attempt: 2, resumed: true },
    ]);
    const beforeSwitch = summarize(streamParts(parts.slice(0, parts.indexOf(routes(parts)[1]!)))).text;
    expect(beforeSwitch).not.toBe('');
    const s = summarize(streamParts(parts));
    expect(s.text).toBe(uninterrupted);
    expect(s.error).toBeUndefined();
    expect(s.terminals).toBe(1);
  });

  it('does not fail over on a non-retryable error', async () => {
    const tools = [{ name: 'get_weather', description: 'weather', parameters: { type: 'object' } }];
    const parts = await collect(registry.stream('phi', { messages, tools }));
    expect(routes(parts)).toHaveLength(1);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_request' } });
  });

  it('ends with the last failure when every deployment fails', async () => {
    gpu.setFault({ kind: 'unhealthy' });
    cpu.setFault({ kind: 'unhealthy' });
    const parts = await collect(registry.stream('llama', { messages }));
    expect(routes(parts)).toHaveLength(2);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'busy' } });
    expect(summarize(streamParts(parts)).terminals).toBe(1);
  });

  it('stops on cancel without trying another deployment, closing the upstream request', async () => {
    const controller = new AbortController();
    const ended = nextStreamEnd(gpu, LLAMA.name);
    const parts: RoutedPart[] = [];
    for await (const part of registry.stream('llama', { messages, signal: controller.signal })) {
      parts.push(part);
      if (part.type === 'text') controller.abort();
    }
    expect(routes(parts)).toHaveLength(1);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    expect((await ended).reason).toBe('client_closed');
  });

  it('answers an unknown or unavailable model with a single model_not_found error', async () => {
    const parts = await collect(registry.stream('nope', { messages }));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: 'error', error: { code: 'model_not_found', message: 'unknown model "nope"' } });
  });

  it('lets a routing policy choose the deployment order', async () => {
    registry.setDeploymentPicker((model) => [...model.deployments].reverse());
    const parts = await collect(registry.stream('llama', { messages }));
    expect(routes(parts)).toEqual([{ type: 'route', deployment: 'cpu/llama3.1:8b', attempt: 1, resumed: false }]);
    expect(summarize(streamParts(parts)).text).toBe(uninterrupted);
  });
});
