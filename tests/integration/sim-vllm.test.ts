import { once } from 'node:events';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';

const LLAMA: SimModelSpec = {
  name: 'meta-llama/Llama-3.1-8B-Instruct',
  family: 'llama',
  tokensPerSecond: 2000,
  ttftMs: 5,
  loadMs: 200,
  contextLength: 4096,
  capabilities: ['completion', 'tools'],
};
const QWEN: SimModelSpec = { name: 'Qwen/Qwen3-4B', family: 'qwen', tokensPerSecond: 2000, ttftMs: 5, loadMs: 200, capabilities: ['completion', 'thinking'] };

const ask = (content: string) => [{ role: 'user' as const, content }];

async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Tool calls rebuilt the way OpenAI clients do it: fragments accumulated per index. */
function assembleToolCalls(chunks: ChatCompletionChunk[]) {
  const calls = new Map<number, { id?: string; name?: string; arguments: string; fragments: number }>();
  for (const fragment of chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])) {
    const call = calls.get(fragment.index) ?? { arguments: '', fragments: 0 };
    call.id ??= fragment.id;
    call.name ??= fragment.function?.name;
    call.arguments += fragment.function?.arguments ?? '';
    call.fragments++;
    calls.set(fragment.index, call);
  }
  return [...calls.values()];
}

describe('simulator, vllm flavor, through the official openai client', () => {
  let sim: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'vllm', models: [LLAMA, QWEN], sleepMode: true });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('lists models the way vLLM does', async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([
      expect.objectContaining({ id: LLAMA.name, object: 'model', owned_by: 'vllm', root: LLAMA.name, parent: null, max_model_len: 4096 }),
      expect.objectContaining({ id: QWEN.name, max_model_len: 8192 }),
    ]);
  });

  it('streams the exact text, usage:null on every chunk but the final usage chunk', async () => {
    const messages = ask('Tell me about the compass and the village.');
    const expected = simulatedAnswer(LLAMA, messages);
    const ended = once(sim.events, 'stream-end');
    const chunks = await drain(
      await client.chat.completions.create({ model: LLAMA.name, messages, stream: true, stream_options: { include_usage: true } }),
    );
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(expected.text);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 8, completion_tokens: expected.tokens.length, total_tokens: 8 + expected.tokens.length });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(await ended).toEqual([expect.objectContaining({ model: LLAMA.name, reason: 'done', requestId: expect.any(String) })]);
  });

  it('answers stream:false with one chat.completion body', async () => {
    const messages = ask('Describe the harbor.');
    const completion = await client.chat.completions.create({ model: LLAMA.name, messages });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toBe(simulatedAnswer(LLAMA, messages).text);
    expect(completion.usage?.completion_tokens).toBe(simulatedAnswer(LLAMA, messages).tokens.length);
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const chunks = await drain(await client.chat.completions.create({ model: LLAMA.name, messages: ask('Go on.'), max_tokens: 4, stream: true }));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(simulatedAnswer(LLAMA, ask('Go on.')).tokens.slice(0, 4).join(''));
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
  });

  it('streams reasoning as delta.reasoning_content before the answer', async () => {
    const messages = ask('Think about the mountain.');
    const expected = simulatedAnswer(QWEN, messages);
    const chunks = await drain(await client.chat.completions.create({ model: QWEN.name, messages, stream: true }));
    const deltas = chunks.map((chunk) => chunk.choices[0]?.delta as { content?: string; reasoning_content?: string });
    expect(deltas.map((delta) => delta.reasoning_content ?? '').join('')).toBe(expected.reasoning);
    expect(deltas.map((delta) => delta.content ?? '').join('')).toBe(expected.text);
    const firstContent = deltas.findIndex((delta) => delta.content);
    const lastReasoning = deltas.findLastIndex((delta) => delta.reasoning_content);
    expect(lastReasoning).toBeLessThan(firstContent);
  });

  it('streams parallel tool calls as argument fragments per index', async () => {
    const tools = ['calculator', 'lookup'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } }));
    const messages = ask('Compute [[tool:calculator {"expression":"2 * 21"}]] and [[tool:lookup {"q":"vLLM","limit":3}]]');
    const chunks = await drain(await client.chat.completions.create({ model: LLAMA.name, messages, tools, stream: true }));
    const calls = assembleToolCalls(chunks);
    expect(calls.map(({ name, arguments: args }) => ({ name, args: JSON.parse(args) }))).toEqual([
      { name: 'calculator', args: { expression: '2 * 21' } },
      { name: 'lookup', args: { q: 'vLLM', limit: 3 } },
    ]);
    expect(calls.every((call) => call.fragments > 2 && call.id)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('calls calculator for arithmetic, and writes malformed arguments under [[badargs]]', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'calculator', parameters: { type: 'object' } } }];
    const good = await client.chat.completions.create({ model: LLAMA.name, messages: ask('How much is (7 + 5) / 3?'), tools });
    const call = good.choices[0]!.message.tool_calls![0] as ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(call.function.arguments)).toEqual({ expression: '(7 + 5) / 3' });
    expect(good.choices[0]!.finish_reason).toBe('tool_calls');

    const bad = await drain(await client.chat.completions.create({ model: LLAMA.name, messages: ask('Add 1 + 1 [[badargs]]'), tools, stream: true }));
    expect(() => JSON.parse(assembleToolCalls(bad)[0]!.arguments)).toThrow();
  });

  it('reuses index 0 with distinct ids under [[index0]]', async () => {
    const tools = ['a', 'b'].map((name) => ({ type: 'function' as const, function: { name, parameters: {} } }));
    const chunks = await drain(
      await client.chat.completions.create({ model: LLAMA.name, messages: ask('[[tool:a {}]] [[tool:b {}]] [[index0]]'), tools, stream: true }),
    );
    const fragments = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(fragments.map((fragment) => fragment.index)).toEqual([0, 0]);
    expect(fragments[0]!.id).not.toBe(fragments[1]!.id);
  });

  it('answers tool results with "Result: …"', async () => {
    const messages = [
      ...ask('What is 6 * 7?'),
      { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'calculator', arguments: '{"expression":"6 * 7"}' } }] },
      { role: 'tool' as const, tool_call_id: 'call_1', content: '42' },
    ];
    const completion = await client.chat.completions.create({ model: LLAMA.name, messages });
    const expected = simulatedAnswer(LLAMA, messages.map((message) => ({ role: message.role, content: message.content ?? '' })));
    expect(completion.choices[0]!.message.content).toBe(expected.text);
    expect(expected.text.startsWith('Result: 42\n\n')).toBe(true);
  });

  it('refuses tools for a model served without auto tool choice', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'calculator', parameters: {} } }];
    await expect(client.chat.completions.create({ model: QWEN.name, messages: ask('1 + 1'), tools })).rejects.toMatchObject({
      status: 400,
      error: { type: 'BadRequestError', message: expect.stringContaining('--enable-auto-tool-choice') },
    });
  });

  it('answers unknown models and malformed bodies in vLLM error shape', async () => {
    const unknown = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'X', messages: ask('hi') }) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { message: 'The model `X` does not exist.', type: 'NotFoundError', param: 'model', code: 404 } });
    const malformed = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: '{nope' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { type: 'BadRequestError', code: 400 } });
    const tooLong = await client.chat.completions.create({ model: LLAMA.name, messages: ask('word '.repeat(5000)) }).catch((error: unknown) => error);
    expect(tooLong).toMatchObject({ status: 400, error: { message: expect.stringContaining('maximum context length is 4096') } });
  });

  it('serves /health and Prometheus /metrics', async () => {
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${sim.url}/metrics`)).text();
    for (const gauge of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc']) {
      expect(metrics).toContain(`${gauge}{model_name="${LLAMA.name}"} 0`);
    }
  });

  it('sleeps, refuses chats while asleep, and wakes up at level-dependent speed', async () => {
    const isSleeping = async () => ((await (await fetch(`${sim.url}/is_sleeping`)).json()) as { is_sleeping: boolean }).is_sleeping;
    for (const [level, minimumWakeMs] of [[1, 20], [2, 200]] as const) {
      expect((await fetch(`${sim.url}/sleep?level=${level}`, { method: 'POST' })).status).toBe(200);
      expect(await isSleeping()).toBe(true);
      expect(sim.state().sleeping).toBe(true);
      await expect(client.chat.completions.create({ model: LLAMA.name, messages: ask('hi') })).rejects.toMatchObject({ status: 503 });
      const startedAt = performance.now();
      expect((await fetch(`${sim.url}/wake_up`, { method: 'POST' })).status).toBe(200);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(minimumWakeMs * 0.9);
      expect(await isSleeping()).toBe(false);
    }
    const completion = await client.chat.completions.create({ model: LLAMA.name, messages: ask('Awake?') });
    expect(completion.choices[0]!.message.content).toBe(simulatedAnswer(LLAMA, ask('Awake?')).text);
  });
});
