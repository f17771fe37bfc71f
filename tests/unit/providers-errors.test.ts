import { createServer } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderErrorCode } from '../../server/providers/errors.js';
import { createOllamaProvider } from '../../server/providers/ollama.js';
import { createOpenAIProvider } from '../../server/providers/openai.js';
import type { ChatRequest, Provider, StreamPart, StreamTimeouts } from '../../server/providers/types.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';
import { startTranscriptServer, transcript, type TranscriptServer } from '../fixtures/transcripts/server.js';

const API_KEY = 'sk-live-5ecret-value-never-shown';
const SLOW: StreamTimeouts = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };
const SHORT_MS = 150;
const REQUEST: ChatRequest = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'Tell me a story' }] };

interface Wire {
  name: string;
  make(url: string, timeouts: StreamTimeouts): Provider;
  contentType: string;
  errorBody(status: number, message: string): string;
  midStreamError: string;
  malformed: string;
  truncated: string;
  /** A healthy transcript: its first part is sent before the stream stalls or dies. */
  healthy: string;
}

const WIRES: Wire[] = [
  {
    name: 'ollama',
    make: (url, timeouts) => createOllamaProvider({ baseUrl: url, timeouts }),
    contentType: 'application/x-ndjson',
    errorBody: (_status, message) => JSON.stringify({ error: message }),
    midStreamError: 'ollama-midstream-error.ndjson',
    malformed: 'ollama-malformed.ndjson',
    truncated: 'ollama-truncated.ndjson',
    healthy: 'ollama-chat-thinking-tools.ndjson',
  },
  {
    name: 'vllm',
    make: (url, timeouts) => createOpenAIProvider({ baseUrl: url, apiKey: API_KEY, timeouts, kind: 'vllm' }),
    contentType: 'text/event-stream',
    errorBody: (status, message) => JSON.stringify({ error: { message, type: 'Error', param: null, code: status } }),
    midStreamError: 'vllm-midstream-error.sse',
    malformed: 'vllm-malformed.sse',
    truncated: 'vllm-truncated.sse',
    healthy: 'vllm-stream-usage.sse',
  },
];

const STATUSES: Array<[number, ProviderErrorCode, boolean]> = [
  [404, 'model_not_found', false],
  [503, 'busy', true],
  [429, 'busy', true],
  [400, 'bad_request', false],
  [422, 'bad_request', false],
  [401, 'auth', false],
  [403, 'auth', false],
  [500, 'server_error', true],
  [502, 'server_error', true],
];

/** Bytes up to and including the end of the n-th line (NDJSON) or event (SSE). */
function firstRecords(body: Buffer, n: number): Buffer {
  const separator = body.includes('\n\n') ? '\n\n' : '\n';
  let end = 0;
  for (let i = 0; i < n; i++) end = body.indexOf(separator, end) + separator.length;
  return body.subarray(0, end);
}

async function closedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

describe.each(WIRES)('$name provider failures', (wire) => {
  let server: TranscriptServer;
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startTranscriptServer();
  });
  afterAll(async () => {
    await server.close();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  const run = async (timeouts: StreamTimeouts = SLOW, req: ChatRequest = REQUEST) =>
    summarize(await collect(wire.make(server.url, timeouts).stream(req)));

  it.each(STATUSES)('maps HTTP %i to %s', async (status, code, retryable) => {
    server.reply({ status, body: Buffer.from(wire.errorBody(status, `upstream says ${status}`)) });
    const { error, terminals, terminalIsLast } = await run();
    expect(error).toMatchObject({ code, retryable, status });
    expect(error?.message).toContain(`upstream says ${status}`);
    expect(error?.message).not.toContain(API_KEY);
    expect({ terminals, terminalIsLast }).toEqual({ terminals: 1, terminalIsLast: true });
  });

  it('reports an error sent inside a 200 stream as server_error, after the text before it', async () => {
    server.reply({ body: transcript(wire.midStreamError), contentType: wire.contentType });
    const s = await run();
    expect(s.text).toBe('Once upon');
    expect(s.error?.code).toBe('server_error');
    expect(s.error?.retryable).toBe(true);
    expect(s.terminals).toBe(1);
  });

  it('reports an unparseable chunk as malformed', async () => {
    server.reply({ body: transcript(wire.malformed), contentType: wire.contentType });
    const s = await run();
    expect(s.error?.code).toBe('malformed');
    expect(s.finish).toBeUndefined();
  });

  it('reports a stream that ends cleanly but without its final message as connection_reset', async () => {
    server.reply({ body: transcript(wire.truncated), contentType: wire.contentType });
    const s = await run();
    expect(s.text).toBe('Once upon a time');
    expect(s.error?.code).toBe('connection_reset');
  });

  it('reports a socket killed mid-stream as connection_reset', async () => {
    server.reply({ body: firstRecords(transcript(wire.healthy), 4), contentType: wire.contentType, then: 'destroy' });
    const s = await run();
    expect(s.text + s.reasoning).not.toBe('');
    expect(s.error).toMatchObject({ code: 'connection_reset', retryable: true });
  });

  it('reports a closed port as connection_refused', async () => {
    const port = await closedPort();
    const { error } = summarize(await collect(wire.make(`http://127.0.0.1:${port}`, SLOW).stream(REQUEST)));
    expect(error).toMatchObject({ code: 'connection_refused', retryable: true });
    expect(error?.message).toContain('ECONNREFUSED');
  });

  it('times out waiting for headers, and closes the request', async () => {
    server.reply({ holdHeaders: true });
    const closed = server.nextClientClose();
    const { error } = await run({ ...SLOW, connectMs: SHORT_MS });
    expect(error?.code).toBe('connect_timeout');
    await closed;
  });

  it('times out waiting for the first token, and closes the request', async () => {
    server.reply({ contentType: wire.contentType, then: 'hang' });
    const closed = server.nextClientClose();
    const { error } = await run({ ...SLOW, firstTokenMs: SHORT_MS });
    expect(error?.code).toBe('first_token_timeout');
    await closed;
  });

  it('times out when the stream stalls after some tokens, and closes the request', async () => {
    server.reply({ body: firstRecords(transcript(wire.healthy), 4), contentType: wire.contentType, then: 'hang' });
    const closed = server.nextClientClose();
    const s = await run({ ...SLOW, idleMs: SHORT_MS });
    expect(s.text + s.reasoning).not.toBe('');
    expect(s.error?.code).toBe('idle_timeout');
    await closed;
  });

  it('honours per-request timeouts over the provider defaults', async () => {
    server.reply({ contentType: wire.contentType, then: 'hang' });
    const { error } = await run(SLOW, { ...REQUEST, timeouts: { firstTokenMs: SHORT_MS } });
    expect(error?.code).toBe('first_token_timeout');
  });

  it('closes the upstream request at once when the caller aborts, ending with aborted', async () => {
    server.reply({ body: firstRecords(transcript(wire.healthy), 4), contentType: wire.contentType, then: 'hang' });
    const controller = new AbortController();
    const closed = server.nextClientClose();
    const parts: StreamPart[] = [];
    let abortedAt = 0;
    for await (const part of wire.make(server.url, SLOW).stream({ ...REQUEST, signal: controller.signal })) {
      parts.push(part);
      if (parts.length > 1) continue;
      abortedAt = performance.now();
      controller.abort();
    }
    await closed;
    // Margin: the socket closes within a few ms of the abort; without it the stream would hang
    // until the 5 s idle timeout, so 1 s tells the two apart on a loaded shared core.
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted', retryable: false } });
    expect(summarize(parts).terminals).toBe(1);
  });

  it('closes the upstream request when the consumer stops reading', async () => {
    server.reply({ body: firstRecords(transcript(wire.healthy), 4), contentType: wire.contentType, then: 'hang' });
    const closed = server.nextClientClose();
    for await (const part of wire.make(server.url, SLOW).stream(REQUEST)) {
      expect(part.type).not.toBe('error');
      break;
    }
    await closed;
  });

  it('retries once when the connection dies before any response (a stale pooled socket)', async () => {
    server.reply({ body: transcript(wire.healthy), contentType: wire.contentType, dropConnections: 1 });
    const before = server.requests.length;
    const s = await run();
    expect(s.error).toBeUndefined();
    expect(s.finish).toBeDefined();
    expect(server.requests.length - before).toBe(2);
  });

  it('retries only once: a connection that keeps dying is connection_reset', async () => {
    server.reply({ body: transcript(wire.healthy), contentType: wire.contentType, dropConnections: 2 });
    const before = server.requests.length;
    expect((await run()).error).toMatchObject({ code: 'connection_reset', retryable: true });
    expect(server.requests.length - before).toBe(2);
  });

  it('does not even connect when the signal is already aborted', async () => {
    const before = server.requests.length;
    const { error } = summarize(await collect(wire.make(server.url, SLOW).stream({ ...REQUEST, signal: AbortSignal.abort() })));
    expect(error?.code).toBe('aborted');
    expect(server.requests.length).toBe(before);
  });
});
