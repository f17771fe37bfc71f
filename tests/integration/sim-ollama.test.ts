import { once } from 'node:events';
import { Ollama, type ChatResponse } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnswer, startSimulator, type SimModelSpec, type SimStreamEvent, type Simulator } from '../../server/sim/index.js';

const FAST: SimModelSpec = { name: 'fast:1b', family: 'fastfam', tokensPerSecond: 2000, ttftMs: 5, loadMs: 60, capabilities: ['completion', 'tools'] };
const THINKER: SimModelSpec = { name: 'thinker:4b', family: 'thinkfam', tokensPerSecond: 2000, ttftMs: 5, loadMs: 20, capabilities: ['completion', 'thinking', 'tools'] };
const TAGGER: SimModelSpec = { name: 'tagger:7b', tokensPerSecond: 2000, ttftMs: 5, loadMs: 20, capabilities: ['completion', 'thinking'], thinkFormat: 'tags' };
const PACED: SimModelSpec = { name: 'paced:3b', tokensPerSecond: 400, ttftMs: 10, loadMs: 20, maxTokens: 40 };
/** Long enough that no client, however late it reads, sees the whole answer before its abort lands. */
const SLOW: SimModelSpec = { name: 'slow:3b', tokensPerSecond: 50, ttftMs: 10, loadMs: 20, maxTokens: 500 };

const ask = (content: string) => [{ role: 'user', content }];

async function collect(stream: AsyncIterable<ChatResponse>) {
  const parts: ChatResponse[] = [];
  for await (const part of stream) parts.push(part);
  return {
    content: parts.map((part) => part.message.content).join(''),
    thinking: parts.map((part) => part.message.thinking ?? '').join(''),
    contentParts: parts.filter((part) => !part.done && part.message.content !== '').length,
    final: parts.at(-1)!,
    parts,
  };
}

describe('simulator, ollama flavor, through the official ollama client', () => {
  let sim: Simulator;
  let ollama: Ollama;

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: [FAST, THINKER, TAGGER, PACED, SLOW] });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(() => sim.close());

  it('cold-loads, streams the exact simulated answer and reports consistent stats', async () => {
    const messages = ask('Tell me something about rivers and bridges.');
    const expected = simulatedAnswer(FAST, messages);
    const loaded = once(sim.events, 'load');
    const result = await collect(await ollama.chat({ model: FAST.name, messages, stream: true }));

    expect(await loaded).toEqual([{ model: FAST.name }]);
    expect(result.content).toBe(expected.text);
    expect(result.contentParts).toBe(expected.tokens.length);
    expect(result.final.done).toBe(true);
    expect(result.final.done_reason).toBe('stop');
    expect(result.final.eval_count).toBe(expected.tokens.length);
    expect(result.final.prompt_eval_count).toBe(7);
    expect(result.final.load_duration).toBeGreaterThanOrEqual(FAST.loadMs! * 0.9e6);
    expect(result.final.total_duration).toBeGreaterThanOrEqual(
      result.final.load_duration + result.final.prompt_eval_duration + result.final.eval_duration - 1e6,
    );
  });

  it('paces tokens at the model speed (eval_count / eval_duration)', async () => {
    const result = await collect(await ollama.chat({ model: PACED.name, messages: ask('Pace yourself.'), stream: true }));
    const tokensPerSecond = (result.final.eval_count / result.final.eval_duration) * 1e9;
    expect(tokensPerSecond).toBeLessThanOrEqual(PACED.tokensPerSecond!);
    expect(tokensPerSecond).toBeGreaterThan(PACED.tokensPerSecond! * 0.25);
  });

  it('answers stream:false with one object holding the same text', async () => {
    const messages = ask('Describe a lantern.');
    const response = await ollama.chat({ model: FAST.name, messages, stream: false });
    expect(response.message.content).toBe(simulatedAnswer(FAST, messages).text);
    expect(response.done_reason).toBe('stop');
  });

  it('introduces itself by family when asked who it is', async () => {
    const response = await ollama.chat({ model: FAST.name, messages: ask('Hi! Who are you?') });
    expect(response.message.content.startsWith('I am fastfam, ')).toBe(true);
  });

  it('stops at options.num_predict with done_reason length', async () => {
    const messages = ask('Write a long essay.');
    const result = await collect(await ollama.chat({ model: FAST.name, messages, stream: true, options: { num_predict: 5 } }));
    expect(result.final.done_reason).toBe('length');
    expect(result.final.eval_count).toBe(5);
    expect(result.content).toBe(simulatedAnswer(FAST, messages).tokens.slice(0, 5).join(''));
  });

  it('continues a partial assistant answer with exactly the remainder', async () => {
    const messages = ask('Explain the garden theory.');
    const full = simulatedAnswer(FAST, messages).text;
    for (const cut of [0, full.indexOf(' ', 20) + 1, 23]) {
      const partial = full.slice(0, cut);
      const withPrefill = [...messages, { role: 'assistant', content: partial }];
      const result = await collect(await ollama.chat({ model: FAST.name, messages: withPrefill, stream: true }));
      expect(partial + result.content).toBe(full);
      expect(result.content).toBe(simulatedAnswer(FAST, withPrefill).text);
    }
  });

  it('lists models, and shows loads and unloads driven by keep_alive in ps()', async () => {
    const names = (await ollama.list()).models.map((model) => model.name);
    expect(names).toEqual([FAST.name, THINKER.name, TAGGER.name, PACED.name, SLOW.name]);
    expect((await ollama.ps()).models.map((model) => model.name)).not.toContain(THINKER.name);

    const preload = await ollama.chat({ model: THINKER.name, messages: [], keep_alive: '10m' });
    expect(preload.done_reason).toBe('load');
    const running = (await ollama.ps()).models.find((model) => model.name === THINKER.name)!;
    expect(running.size_vram).toBe(4000 * 1024 * 1024);
    expect((running as unknown as { context_length: number }).context_length).toBe(8192);
    const expiresInMs = new Date(running.expires_at).getTime() - Date.now();
    expect(expiresInMs).toBeGreaterThan(9 * 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(10 * 60_000);
    expect(sim.state().loaded).toContain(THINKER.name);

    const unload = await ollama.chat({ model: THINKER.name, messages: [], keep_alive: 0 });
    expect(unload.done_reason).toBe('unload');
    expect((await ollama.ps()).models.map((model) => model.name)).not.toContain(THINKER.name);
  });

  it('unloads a model when its keep_alive expires', async () => {
    await ollama.chat({ model: TAGGER.name, messages: [], keep_alive: '300ms' });
    expect(sim.state().loaded).toContain(TAGGER.name);
    const [event] = await once(sim.events, 'unload');
    expect(event).toEqual({ model: TAGGER.name });
    expect(sim.state().loaded).not.toContain(TAGGER.name);
  });

  it('keeps a model forever with a negative keep_alive', async () => {
    await ollama.chat({ model: PACED.name, messages: [], keep_alive: -1 });
    const running = (await ollama.ps()).models.find((model) => model.name === PACED.name)!;
    expect(new Date(running.expires_at).getFullYear()).toBeGreaterThan(2200);
  });

  it('shows capabilities, and answers 404 for an unknown model', async () => {
    expect((await ollama.show({ model: THINKER.name })).capabilities).toEqual(['completion', 'thinking', 'tools']);
    expect((await ollama.show({ model: FAST.name })).details.family).toBe('fastfam');
    await expect(ollama.show({ model: 'nope:1b' })).rejects.toMatchObject({ status_code: 404 });
  });

  it('calls tools with whole objects as arguments, then answers from their results', async () => {
    const tools = [{ type: 'function', function: { name: 'calculator', description: 'math', parameters: { type: 'object' } } }];
    const messages = ask('What is 12 * (3 + 4)?');
    const result = await collect(await ollama.chat({ model: FAST.name, messages, tools, stream: true }));
    const calls = result.parts.flatMap((part) => part.message.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.function).toMatchObject({ name: 'calculator', arguments: { expression: '12 * (3 + 4)' } });

    const followUp = [...messages, { role: 'assistant', content: '', tool_calls: calls }, { role: 'tool', content: '84' }];
    const answer = await ollama.chat({ model: FAST.name, messages: followUp, tools });
    expect(answer.message.content.startsWith('Result: 84\n\n')).toBe(true);
    expect(answer.message.content).toBe(simulatedAnswer(FAST, followUp).text);
  });

  it('makes parallel calls from [[tool:…]] directives and answers normally without tools', async () => {
    const prompt = 'Plan my day [[tool:get_weather {"city":"Paris","units":{"temp":"C"}}]] [[tool:get_time {"tz":"UTC"}]]';
    const tools = ['get_weather', 'get_time'].map((name) => ({ type: 'function', function: { name } }));
    const response = await ollama.chat({ model: FAST.name, messages: ask(prompt), tools });
    expect(response.message.tool_calls?.map((call) => call.function)).toEqual([
      expect.objectContaining({ name: 'get_weather', arguments: { city: 'Paris', units: { temp: 'C' } } }),
      expect.objectContaining({ name: 'get_time', arguments: { tz: 'UTC' } }),
    ]);
    const plain = await ollama.chat({ model: FAST.name, messages: ask('What is 2 + 2?') });
    expect(plain.message.tool_calls).toBeUndefined();
    expect(plain.message.content).toBe(simulatedAnswer(FAST, ask('What is 2 + 2?')).text);
  });

  it('refuses tools for a model without the tools capability', async () => {
    const tools = [{ type: 'function', function: { name: 'calculator' } }];
    await expect(ollama.chat({ model: TAGGER.name, messages: ask('1 + 1'), tools })).rejects.toMatchObject({ status_code: 400 });
  });

  it('streams reasoning in message.thinking, or not at all with think:false', async () => {
    const messages = ask('Think about the harbor.');
    const expected = simulatedAnswer(THINKER, messages);
    expect(expected.reasoning.length).toBeGreaterThan(0);
    const thinking = await collect(await ollama.chat({ model: THINKER.name, messages, think: true, stream: true }));
    expect(thinking.thinking).toBe(expected.reasoning);
    expect(thinking.content).toBe(expected.text);

    const silent = await collect(await ollama.chat({ model: THINKER.name, messages, think: false, stream: true }));
    expect(silent.thinking).toBe('');
    expect(silent.content).toBe(expected.text);
  });

  it('puts reasoning in <think> tags inside the content for thinkFormat tags', async () => {
    const messages = ask('Think about the forest.');
    const expected = simulatedAnswer(TAGGER, messages);
    const result = await collect(await ollama.chat({ model: TAGGER.name, messages, stream: true }));
    expect(result.content).toBe(`<think>${expected.reasoning}</think>\n\n${expected.text}`);

    const partial = `<think>${expected.reasoning}</think>\n\n${expected.tokens.slice(0, 3).join('')}`;
    const resumed = await ollama.chat({ model: TAGGER.name, messages: [...messages, { role: 'assistant', content: partial }] });
    expect(resumed.message.content).toBe(expected.tokens.slice(3).join(''));
  });

  it('answers protocol errors in Ollama shape', async () => {
    const unknown = await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'x', messages: ask('hi') }) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'model "x" not found, try pulling it first' });
    const malformed = await fetch(`${sim.url}/api/chat`, { method: 'POST', body: '{"model":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: expect.stringContaining('invalid JSON') });
    const root = await fetch(sim.url);
    expect(await root.text()).toBe('Ollama is running');
    expect(await (await fetch(`${sim.url}/api/version`)).json()).toEqual({ version: expect.any(String) });
  });

  it("notices a client abort and ends the stream as client_closed", async () => {
    const stream = await ollama.chat({ model: SLOW.name, messages: ask('A long answer please.'), stream: true });
    const ended = once(sim.events, 'stream-end');
    let received = 0;
    const consume = async () => {
      for await (const part of stream) if (part.message.content && ++received === 2) stream.abort();
    };
    await expect(consume()).rejects.toMatchObject({ name: 'AbortError' });
    expect(received).toBe(2);
    const [event] = (await ended) as [SimStreamEvent];
    expect(event).toMatchObject({ model: SLOW.name, reason: 'client_closed' });
    expect(sim.state().inFlight).toBe(0);
  });
});

describe("simulator, ollama flavor, through Ollama's OpenAI-compatible layer", () => {
  let sim: Simulator;
  let client: OpenAI;

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: [FAST, THINKER], preloaded: true });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'ollama', maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('lists models and streams the exact text with usage last', async () => {
    expect((await client.models.list()).data.map((model) => model.id)).toEqual([FAST.name, THINKER.name]);
    const messages = ask('Tell me about the meadow.');
    const expected = simulatedAnswer(FAST, messages);
    const stream = await client.chat.completions.create({ model: FAST.name, messages: messages as never, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(expected.text);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: expected.tokens.length, prompt_tokens: 5 });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  });

  it("streams reasoning as delta.reasoning, Ollama's field name", async () => {
    const messages = ask('Ponder the archive.');
    const stream = await client.chat.completions.create({ model: THINKER.name, messages: messages as never, stream: true });
    let reasoning = '';
    for await (const chunk of stream) reasoning += (chunk.choices[0]?.delta as { reasoning?: string } | undefined)?.reasoning ?? '';
    expect(reasoning).toBe(simulatedAnswer(THINKER, messages).reasoning);
  });

  it('sends whole tool calls, reusing index 0 with distinct ids under [[index0]]', async () => {
    const tools = ['a', 'b'].map((name) => ({ type: 'function' as const, function: { name, parameters: {} } }));
    const content = '[[tool:a {"n":1}]] [[tool:b {"n":2}]] [[index0]]';
    const stream = await client.chat.completions.create({ model: FAST.name, messages: ask(content) as never, tools, stream: true });
    const calls = [];
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    expect(finishReason).toBe('tool_calls');
    expect(calls.map((call) => call.index)).toEqual([0, 0]);
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);
    expect(calls.map((call) => JSON.parse(call.function!.arguments!))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('answers unknown models with a 404 in OpenAI shape', async () => {
    await expect(client.chat.completions.create({ model: 'ghost', messages: ask('hi') as never })).rejects.toMatchObject({
      status: 404,
      error: { message: 'model "ghost" not found, try pulling it first', type: 'not_found_error' },
    });
  });
});
