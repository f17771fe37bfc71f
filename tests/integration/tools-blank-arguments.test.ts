import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../server/providers/openai.js';
import { BUILTIN_TOOLS, runToolConversation, ToolRegistry } from '../../server/tools/index.js';

/**
 * A minimal OpenAI-compatible server on the wire: its first answer calls two tools with empty and
 * blank argument strings; its second records the history it is sent, as vLLM would re-parse it.
 */

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const part of req) text += part;
  return JSON.parse(text) as Record<string, unknown>;
}

describe('tool calls with empty or blank arguments', () => {
  let server: Server;
  let url: string;
  const requests: Record<string, unknown>[] = [];
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const request = await body(req);
      requests.push(request);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (requests.length === 1) {
        res.write(chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'datetime', arguments: '' } }] }));
        res.write(chunk({ tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'datetime', arguments: '  ' } }] }));
        res.write(chunk({}, 'tool_calls'));
      } else {
        res.write(chunk({ role: 'assistant', content: 'done' }));
        res.write(chunk({}, 'stop'));
      }
      res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('runs them with no arguments and sends "{}" back in the history', async () => {
    const provider = createOpenAIProvider({ baseUrl: url, kind: 'vllm', timeouts: { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 } });
    const result = await runToolConversation({ provider, model: 'm', messages: [{ role: 'user', content: 'what time is it' }], registry: new ToolRegistry(BUILTIN_TOOLS), maxRounds: 3 });
    expect(result.outcome).toBe('answered');
    expect(requests).toHaveLength(2);
    const history = requests[1]!.messages as { role: string; tool_calls?: { function: { arguments: string } }[]; content?: string }[];
    const assistant = history.find((m) => m.role === 'assistant')!;
    expect(assistant.tool_calls!.map((c) => c.function.arguments)).toEqual(['{}', '{}']);
    for (const c of assistant.tool_calls!) expect(JSON.parse(c.function.arguments)).toEqual({});
    // The calls themselves ran with the defaults (action "now").
    const results = history.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content!));
    expect(results).toHaveLength(2);
    for (const r of results) expect(r).toMatchObject({ timeZone: 'UTC', weekday: expect.any(String) });
  });
});
