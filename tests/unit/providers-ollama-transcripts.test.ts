import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaProvider } from '../../server/providers/ollama.js';
import type { ChatRequest, StreamTimeouts } from '../../server/providers/types.js';
import { describeTranscriptCases, type TranscriptCase } from '../fixtures/transcripts/cases.js';
import { collect, summarize, type StreamSummary } from '../fixtures/transcripts/parts.js';
import { startTranscriptServer, transcript, type TranscriptServer } from '../fixtures/transcripts/server.js';

const TIMEOUTS: StreamTimeouts = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };
const REQUEST: ChatRequest = { model: 'qwen3:8b', messages: [{ role: 'user', content: 'Quel temps fait-il à Toronto ?' }] };

const CASES: TranscriptCase[] = [
  {
    file: 'ollama-chat-thinking-tools.ndjson',
    check(s) {
      expect(s.reasoning).toBe("L'utilisateur veut la météo à Toronto.");
      expect(s.text).toBe('Je vérifie la météo 🌦 à Toronto.');
      expect(s.toolCalls).toHaveLength(1);
      expect(s.toolCalls[0]).toMatchObject({ name: 'get_current_weather', arguments: { format: 'celsius', location: 'Toronto' } });
      expect(s.toolCalls[0]?.id).toMatch(/^call_/);
      expect(s.finish).toMatchObject({ reason: 'tool_calls', usage: { promptTokens: 172, completionTokens: 61 }, loadMs: 36.925375 });
      expect(s.finish?.tokensPerSecond).toBeCloseTo((61 / 1946818709) * 1e9, 9);
    },
  },
  {
    file: 'ollama-think-tags.ndjson',
    check(s) {
      expect(s.reasoning).toBe('Deux plus');
      expect(s.text).toBe('2 + 2 = 4 ✓');
      expect(s.toolCalls).toEqual([]);
      expect(s.finish).toMatchObject({ reason: 'length', usage: { promptTokens: 9, completionTokens: 7 }, tokensPerSecond: 20, loadMs: 1520 });
    },
  },
];

describe('Ollama provider on recorded NDJSON transcripts', () => {
  let server: TranscriptServer;
  beforeAll(async () => {
    server = await startTranscriptServer();
  });
  afterAll(() => server.close());

  async function run(body: Buffer, cuts: number[]): Promise<StreamSummary> {
    server.reply({ body, cuts, contentType: 'application/x-ndjson' });
    const provider = createOllamaProvider({ baseUrl: server.url, timeouts: TIMEOUTS });
    const summary = summarize(await collect(provider.stream(REQUEST)));
    expect(summary.error).toBeUndefined();
    expect(summary).toMatchObject({ terminals: 1, terminalIsLast: true });
    return summary;
  }

  describeTranscriptCases(CASES, run);

  it('measures time to first token and total time', async () => {
    const { finish } = await run(transcript('ollama-think-tags.ndjson'), []);
    expect(finish?.ttftMs).toBeGreaterThanOrEqual(0);
    expect(finish?.totalMs).toBeGreaterThanOrEqual(finish?.ttftMs ?? Infinity);
  });

  it('sends the native request: stream, tools, options and keep_alive passed through', async () => {
    server.reply({ body: transcript('ollama-think-tags.ndjson'), contentType: 'application/x-ndjson' });
    const provider = createOllamaProvider({ baseUrl: `${server.url}/`, timeouts: TIMEOUTS });
    await collect(
      provider.stream({
        model: 'qwen3:8b',
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
          { role: 'tool', content: '18°C', toolCallId: 'call_1', toolName: 'get_weather' },
        ],
        tools: [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
        temperature: 0.2,
        maxTokens: 64,
        keepAlive: '10m',
        options: { num_ctx: 8192, seed: 7 },
      }),
    );
    const request = server.requests.at(-1);
    expect(request).toMatchObject({ method: 'POST', path: '/api/chat' });
    expect(request?.body).toEqual({
      model: 'qwen3:8b',
      stream: true,
      keep_alive: '10m',
      options: { num_ctx: 8192, seed: 7, temperature: 0.2, num_predict: 64 },
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        },
      ],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: '18°C', tool_name: 'get_weather' },
      ],
    });
  });
});
