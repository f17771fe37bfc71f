import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaProvider } from '../../server/providers/ollama.js';
import type { StreamPart } from '../../server/providers/types.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';
import { startTranscriptServer, type TranscriptServer } from '../fixtures/transcripts/server.js';

/** NDJSON content chunks as an Ollama server streams them, plus its final line. */
function ndjson(chunks: { content?: string; thinking?: string }[]): Buffer {
  const lines = chunks.map((message) => JSON.stringify({ model: 'm', message: { role: 'assistant', ...message }, done: false }));
  lines.push(JSON.stringify({ model: 'm', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: chunks.length }));
  return Buffer.from(lines.join('\n') + '\n');
}

const newlineCuts = (body: Buffer) => [...body.entries()].filter(([i, b]) => b === 0x0a && i < body.length - 1).map(([i]) => i + 1);
const tokensOf = (parts: StreamPart[]) => parts.reduce((n, p) => n + (p.type === 'text' || p.type === 'reasoning' ? (p.tokens ?? 1) : 0), 0);

describe('Ollama provider: the lines of one network read become one part', () => {
  let server: TranscriptServer;
  beforeAll(async () => {
    server = await startTranscriptServer();
  });
  afterAll(() => server.close());

  async function stream(body: Buffer, cuts: number[]): Promise<StreamPart[]> {
    server.reply({ body, cuts, contentType: 'application/x-ndjson' });
    const provider = createOllamaProvider({ baseUrl: server.url, timeouts: { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 } });
    return collect(provider.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
  }

  const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
  const body = ndjson([{ thinking: 'hmm, ' }, { thinking: 'let me see. ' }, ...words.map((content) => ({ content }))]);

  it('merges a read of many lines into one part per kind, in order, counting every chunk', async () => {
    const parts = await stream(body, []);
    const content = parts.filter((p) => p.type === 'text' || p.type === 'reasoning');
    expect(content.map((p) => p.type)).toEqual(['reasoning', 'text']);
    expect(summarize(parts)).toMatchObject({ reasoning: 'hmm, let me see. ', text: words.join(''), terminals: 1, terminalIsLast: true });
    expect(tokensOf(parts)).toBe(42);
  });

  it('yields smaller parts when the lines arrive in separate writes, the count still exact', async () => {
    const parts = await stream(body, newlineCuts(body));
    const content = parts.filter((p) => p.type === 'text' || p.type === 'reasoning');
    // A busy client may still read two writes at once; only the total is exact.
    expect(content.length).toBeGreaterThan(2);
    expect(tokensOf(parts)).toBe(42);
    expect(summarize(parts).text).toBe(words.join(''));
  });

  it('lets the merged text out before an error line', async () => {
    const broken = Buffer.concat([ndjson([{ content: 'a ' }, { content: 'b ' }]).subarray(0, -1 - ndjson([]).length + 1), Buffer.from('{"error":"model crashed"}\n')]);
    const parts = await stream(broken, []);
    expect(summarize(parts).text).toBe('a b ');
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'server_error' } });
  });
});
