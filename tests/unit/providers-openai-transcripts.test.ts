import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../server/providers/openai.js';
import type { ChatRequest, StreamTimeouts } from '../../server/providers/types.js';
import { describeTranscriptCases, type TranscriptCase } from '../fixtures/transcripts/cases.js';
import { collect, summarize, type StreamSummary } from '../fixtures/transcripts/parts.js';
import { everyByte, startTranscriptServer, transcript, type TranscriptServer } from '../fixtures/transcripts/server.js';

const TIMEOUTS: StreamTimeouts = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };
const REQUEST: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Bonjour' }] };
const API_KEY = 'sk-test-5ecret-never-logged';

const CASES: TranscriptCase[] = [
  {
    file: 'vllm-stream-usage.sse',
    check(s) {
      expect(s.reasoning).toBe('Simple greeting.');
      expect(s.text).toBe('Bonjour ! Ça va ? 😊');
      expect(s.toolCalls).toEqual([]);
      expect(s.finish).toMatchObject({ reason: 'stop', usage: { promptTokens: 14, completionTokens: 9 } });
    },
  },
  {
    file: 'openai-tool-fragments.sse',
    check(s) {
      expect(s.text).toBe('');
      expect(s.toolCalls).toEqual([
        {
          id: 'call_Qm7nPa1',
          name: 'get_weather',
          arguments: { location: 'Paris, Île-de-France' },
          rawArguments: '{"location": "Paris, Île-de-France"}',
        },
        { id: 'call_Rk8oQb2', name: 'get_time', arguments: { tz: 'Europe/Paris' }, rawArguments: '{"tz": "Europe/Paris"}' },
      ]);
      expect(s.finish).toMatchObject({ reason: 'tool_calls', usage: { promptTokens: 81, completionTokens: 44 } });
    },
  },
  {
    file: 'ollama-v1-index0.sse',
    check(s) {
      expect(s.toolCalls.map((c) => [c.id, c.name, c.arguments])).toEqual([
        ['call_x7k2m9q1', 'get_weather', { city: 'Paris' }],
        ['call_p3w8z0d5', 'get_weather', { city: 'London' }],
      ]);
      expect(s.finish).toMatchObject({ reason: 'tool_calls', usage: { promptTokens: 120, completionTokens: 38 } });
    },
  },
];

describe('OpenAI-compatible provider on recorded SSE transcripts', () => {
  let server: TranscriptServer;
  beforeAll(async () => {
    server = await startTranscriptServer();
  });
  afterAll(() => server.close());

  function provider(kind: 'openai' | 'vllm' = 'vllm') {
    return createOpenAIProvider({ baseUrl: server.url, apiKey: API_KEY, timeouts: TIMEOUTS, kind });
  }

  async function run(body: Buffer, cuts: number[]): Promise<StreamSummary> {
    server.reply({ body, cuts, contentType: 'text/event-stream' });
    const summary = summarize(await collect(provider().stream(REQUEST)));
    expect(summary.error).toBeUndefined();
    expect(summary).toMatchObject({ terminals: 1, terminalIsLast: true });
    return summary;
  }

  describeTranscriptCases(CASES, run);

  it('measures time to first token, total time and speed from the usage chunk', async () => {
    const { finish } = await run(transcript('vllm-stream-usage.sse'), everyByte(transcript('vllm-stream-usage.sse')));
    expect(finish?.ttftMs).toBeGreaterThanOrEqual(0);
    expect(finish?.totalMs).toBeGreaterThan(finish?.ttftMs ?? Infinity);
    expect(finish?.tokensPerSecond).toBeGreaterThan(0);
  });

  it('sends a streaming request with usage, tools, the key, and vLLM prefill flags', async () => {
    server.reply({ body: transcript('vllm-stream-usage.sse'), contentType: 'text/event-stream' });
    await collect(
      provider('vllm').stream({
        model: 'Qwen/Qwen3-8B',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] },
          { role: 'tool', content: '18°C', toolCallId: 'call_1', toolName: 'get_weather' },
          { role: 'assistant', content: 'It is 18' },
        ],
        tools: [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'object' } }],
        maxTokens: 32,
        temperature: 0,
      }),
    );
    const request = server.requests.at(-1);
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toEqual({
      model: 'Qwen/Qwen3-8B',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 32,
      temperature: 0,
      continue_final_message: true,
      add_generation_prompt: false,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'assistant', content: 'It is 18' },
      ],
    });
  });

  it('uses max_completion_tokens and no vLLM-only fields against OpenAI itself', async () => {
    server.reply({ body: transcript('vllm-stream-usage.sse'), contentType: 'text/event-stream' });
    await collect(provider('openai').stream({ ...REQUEST, maxTokens: 16, messages: [{ role: 'assistant', content: 'x' }] }));
    const body = server.requests.at(-1)?.body as Record<string, unknown>;
    expect(body.max_completion_tokens).toBe(16);
    expect(body).not.toHaveProperty('max_tokens');
    expect(body).not.toHaveProperty('continue_final_message');
  });

  it('accepts a base URL that already ends in /v1', async () => {
    server.reply({ body: transcript('vllm-stream-usage.sse'), contentType: 'text/event-stream' });
    const p = createOpenAIProvider({ baseUrl: `${server.url}/v1/`, timeouts: TIMEOUTS, kind: 'openai' });
    const summary = summarize(await collect(p.stream(REQUEST)));
    expect(summary.text).toBe('Bonjour ! Ça va ? 😊');
    expect(server.requests.at(-1)?.path).toBe('/v1/chat/completions');
  });
});
