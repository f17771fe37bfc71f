import { once } from 'node:events';
import { connect } from 'node:net';
import { Ollama } from 'ollama';
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatedAnswer, startSimulator, type SimModelSpec, type SimOptions, type SimStreamEvent, type Simulator } from '../../server/sim/index.js';

const MODEL: SimModelSpec = { name: 'steady:1b', tokensPerSecond: 1000, ttftMs: 5, loadMs: 10, maxTokens: 40 };
const OTHER: SimModelSpec = { name: 'other:1b', tokensPerSecond: 1000, ttftMs: 5, loadMs: 10 };
const ask = (content: string) => [{ role: 'user' as const, content }];

const started: Simulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function start(options: Partial<SimOptions> & Pick<SimOptions, 'flavor'>): Promise<Simulator> {
  const sim = await startSimulator({ models: [MODEL, OTHER], preloaded: true, ...options });
  started.push(sim);
  return sim;
}

function openai(target: Simulator, apiKey = 'x'): OpenAI {
  return new OpenAI({ baseURL: `${target.url}/v1`, apiKey, maxRetries: 0 });
}

function nextStreamEnd(target: Simulator): Promise<SimStreamEvent> {
  return once(target.events, 'stream-end').then(([event]) => event as SimStreamEvent);
}

/** A fresh TCP connect (no pooled keep-alive socket) and the error code it fails with. */
async function connectErrorCode(port: number): Promise<string | undefined> {
  const socket = connect(port, '127.0.0.1');
  const [outcome] = await Promise.race([once(socket, 'connect').then(() => [undefined]), once(socket, 'error')]);
  socket.destroy();
  return (outcome as NodeJS.ErrnoException | undefined)?.code;
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('simulator faults', () => {
  it('down refuses connections and cuts open streams; none listens again on the same port', async () => {
    const target = await start({ flavor: 'ollama', models: [{ ...MODEL, tokensPerSecond: 50 }] });
    const ollama = new Ollama({ host: target.url });
    const stream = await ollama.chat({ model: MODEL.name, messages: ask('Talk slowly.'), stream: true });
    const cut = nextStreamEnd(target);
    const wentDown = once(target.events, 'down');
    const consume = async () => {
      for await (const part of stream) if (part.message.content) target.setFault({ kind: 'down' });
    };
    await expect(consume()).rejects.toThrow();
    expect(await cut).toMatchObject({ reason: 'fault' });
    await wentDown;
    expect(await connectErrorCode(target.port)).toBe('ECONNREFUSED');
    await expect(fetch(target.url)).rejects.toThrow('fetch failed');

    const cameUp = once(target.events, 'up');
    target.setFault({ kind: 'none' });
    await cameUp;
    expect(await (await fetch(target.url)).text()).toBe('Ollama is running');
  });

  it('unhealthy answers 503 on health and chat, per server or per model', async () => {
    const target = await start({ flavor: 'vllm' });
    const client = openai(target);
    target.setFault({ kind: 'unhealthy' });
    expect((await fetch(`${target.url}/health`)).status).toBe(503);
    await expect(client.chat.completions.create({ model: MODEL.name, messages: ask('hi') })).rejects.toMatchObject({ status: 503 });

    target.setFault({ kind: 'none' });
    target.setFault({ kind: 'unhealthy' }, OTHER.name);
    expect((await fetch(`${target.url}/health`)).status).toBe(200);
    await expect(client.chat.completions.create({ model: OTHER.name, messages: ask('hi') })).rejects.toMatchObject({ status: 503 });
    const healthy = await client.chat.completions.create({ model: MODEL.name, messages: ask('hi') });
    expect(healthy.choices[0]!.message.content).toBe(simulatedAnswer(MODEL, ask('hi')).text);

    const ollama = await start({ flavor: 'ollama' });
    ollama.setFault({ kind: 'unhealthy' });
    expect((await fetch(ollama.url)).status).toBe(503);
    expect((await postJson(`${ollama.url}/api/chat`, { model: MODEL.name, messages: ask('hi') })).status).toBe(503);
  });

  it('hang sends headers but no token; the client abort is seen at once as client_closed', async () => {
    const target = await start({ flavor: 'vllm' });
    target.setFault({ kind: 'hang' });
    const controller = new AbortController();
    const stream = await openai(target).chat.completions.create(
      { model: MODEL.name, messages: ask('Anyone there?'), stream: true },
      { signal: controller.signal },
    );
    const firstChunk = stream[Symbol.asyncIterator]().next();
    expect(target.state().inFlight).toBe(1);
    const ended = nextStreamEnd(target);
    const abortedAt = performance.now();
    controller.abort();
    expect(await ended).toMatchObject({ model: MODEL.name, reason: 'client_closed' });
    // Margin: the close is seen within a few ms; 500 ms allows for a loaded shared core (a hung
    // stream never ends at all, so only the order of magnitude matters).
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(await firstChunk).toMatchObject({ done: true });
    expect(target.state().inFlight).toBe(0);
  });

  it('die_after resets the connection after N content tokens', async () => {
    const target = await start({ flavor: 'ollama' });
    target.setFault({ kind: 'die_after', tokens: 3 }, MODEL.name);
    const stream = await new Ollama({ host: target.url }).chat({ model: MODEL.name, messages: ask('Keep going.'), stream: true });
    const ended = nextStreamEnd(target);
    const received: string[] = [];
    const consume = async () => {
      for await (const part of stream) received.push(part.message.content);
    };
    await expect(consume()).rejects.toThrow(/terminated|socket|reset/i);
    expect(received.join('')).toBe(simulatedAnswer(MODEL, ask('Keep going.')).tokens.slice(0, 3).join(''));
    expect(await ended).toMatchObject({ reason: 'fault' });
  });

  it('error_after sends an in-stream error line (Ollama) and an SSE error event (vLLM)', async () => {
    const ollamaSim = await start({ flavor: 'ollama' });
    ollamaSim.setFault({ kind: 'error_after', tokens: 2, message: 'CUDA out of memory' });
    const stream = await new Ollama({ host: ollamaSim.url }).chat({ model: MODEL.name, messages: ask('Go.'), stream: true });
    const ollamaTokens: string[] = [];
    const consumeOllama = async () => {
      for await (const part of stream) ollamaTokens.push(part.message.content);
    };
    await expect(consumeOllama()).rejects.toThrow('CUDA out of memory');
    expect(ollamaTokens).toEqual(simulatedAnswer(MODEL, ask('Go.')).tokens.slice(0, 2));

    const vllmSim = await start({ flavor: 'vllm' });
    vllmSim.setFault({ kind: 'error_after', tokens: 2, message: 'engine died' });
    const sse = await openai(vllmSim).chat.completions.create({ model: MODEL.name, messages: ask('Go.'), stream: true });
    const ended = nextStreamEnd(vllmSim);
    const vllmTokens: string[] = [];
    const consumeVllm = async () => {
      for await (const chunk of sse) if (chunk.choices[0]?.delta.content) vllmTokens.push(chunk.choices[0].delta.content);
    };
    const error = await consumeVllm().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('engine died');
    expect(vllmTokens).toHaveLength(2);
    expect(await ended).toMatchObject({ reason: 'fault' });
  });

  it('slow divides the generation speed by its factor', async () => {
    const target = await start({ flavor: 'ollama' });
    const ollama = new Ollama({ host: target.url });
    const tokensPerSecond = async () => {
      const response = await ollama.chat({ model: MODEL.name, messages: ask('Measure me.') });
      return (response.eval_count / response.eval_duration) * 1e9;
    };
    const normal = await tokensPerSecond();
    target.setFault({ kind: 'slow', factor: 5 });
    const slowed = await tokensPerSecond();
    expect(slowed).toBeLessThanOrEqual(MODEL.tokensPerSecond! / 5);
    expect(normal).toBeGreaterThan(slowed * 2);
  });

  it('Ollama answers 503 server busy beyond maxConcurrent in-flight chats', async () => {
    const target = await start({ flavor: 'ollama', maxConcurrent: 1 });
    target.setFault({ kind: 'hang' });
    const ollama = new Ollama({ host: target.url });
    const hung = await ollama.chat({ model: MODEL.name, messages: ask('Hold the slot.'), stream: true });
    const busy = await postJson(`${target.url}/api/chat`, { model: OTHER.name, messages: ask('Me too.') });
    expect(busy.status).toBe(503);
    expect(await busy.json()).toEqual({ error: 'server busy' });
    const ended = nextStreamEnd(target);
    hung.abort();
    expect(await ended).toMatchObject({ reason: 'client_closed' });
  });

  it('vLLM queues beyond maxConcurrent and reports it in num_requests_waiting', async () => {
    const target = await start({ flavor: 'vllm', maxConcurrent: 1 });
    const client = openai(target);
    const gauge = async (name: string) => {
      const text = await (await fetch(`${target.url}/metrics`)).text();
      return Number(new RegExp(`^vllm:${name}\\{model_name="${MODEL.name}"\\} (\\S+)$`, 'm').exec(text)![1]);
    };
    target.setFault({ kind: 'hang' });
    const controller = new AbortController();
    await client.chat.completions.create({ model: MODEL.name, messages: ask('First.'), stream: true }, { signal: controller.signal });
    target.setFault({ kind: 'none' });
    const queuedArrived = once(target.events, 'request');
    const queued = client.chat.completions.create({ model: MODEL.name, messages: ask('Second.') });
    await queuedArrived;
    expect(await gauge('num_requests_running')).toBe(1);
    expect(await gauge('num_requests_waiting')).toBe(1);
    expect(await gauge('kv_cache_usage_perc')).toBeGreaterThan(0);
    expect(target.state().inFlight).toBe(2);

    controller.abort();
    expect((await queued).choices[0]!.message.content).toBe(simulatedAnswer(MODEL, ask('Second.')).text);
    expect(await gauge('num_requests_waiting')).toBe(0);
  });

  it('the admin endpoint reports state and injects faults, including a timed outage', async () => {
    const target = await start({ flavor: 'vllm' });
    const injected = await postJson(`${target.url}/_sim/fault`, { fault: { kind: 'unhealthy' } });
    expect(injected.status).toBe(200);
    expect((await fetch(`${target.url}/health`)).status).toBe(503);
    const state = await (await fetch(`${target.url}/_sim/state`)).json();
    expect(state).toMatchObject({ flavor: 'vllm', loaded: [MODEL.name, OTHER.name], inFlight: 0, faults: { global: { kind: 'unhealthy' } } });
    await postJson(`${target.url}/_sim/fault`, { fault: { kind: 'none' } });
    expect((await fetch(`${target.url}/health`)).status).toBe(200);

    const invalid = await postJson(`${target.url}/_sim/fault`, { fault: { kind: 'meltdown' } });
    expect(invalid.status).toBe(400);

    const down = once(target.events, 'down');
    const up = once(target.events, 'up');
    await postJson(`${target.url}/_sim/fault`, { fault: { kind: 'down' }, forMs: 100 });
    await down;
    expect(await connectErrorCode(target.port)).toBe('ECONNREFUSED');
    await up;
    expect((await fetch(`${target.url}/health`)).status).toBe(200);
  });

  it('requires the API key on /v1 when one is set', async () => {
    const target = await start({ flavor: 'vllm', apiKey: 'secret' });
    await expect(openai(target, 'wrong').models.list()).rejects.toMatchObject({ status: 401, error: { type: 'AuthenticationError' } });
    expect((await openai(target, 'secret').models.list()).data).toHaveLength(2);
    expect((await fetch(`${target.url}/health`)).status).toBe(200);
  });

  it('counts requests per model and reports an abort mid-stream promptly', async () => {
    const target = await start({ flavor: 'vllm', models: [{ ...MODEL, tokensPerSecond: 100 }] });
    const controller = new AbortController();
    const stream = await openai(target).chat.completions.create(
      { model: MODEL.name, messages: ask('Abort me.'), stream: true },
      { signal: controller.signal },
    );
    const ended = nextStreamEnd(target);
    let abortedAt = 0;
    let tokens = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++tokens === 2) {
        abortedAt = performance.now();
        controller.abort();
      }
    }
    expect(await ended).toMatchObject({ reason: 'client_closed' });
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(target.state()).toMatchObject({ inFlight: 0, requests: { [MODEL.name]: 1 } });
  });
});
