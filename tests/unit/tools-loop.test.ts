import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProviderError } from '../../server/providers/errors.js';
import { createStaticProvider } from '../../server/providers/static.js';
import type { ChatMessage, ChatRequest, StreamPart, ToolCall } from '../../server/providers/types.js';
import { BUILTIN_TOOLS, defineTool, runToolConversation, ToolRegistry, type ToolLoopEvent } from '../../server/tools/index.js';

const FINISH_STOP: StreamPart = { type: 'finish', reason: 'stop', usage: {}, totalMs: 0 };
const FINISH_TOOLS: StreamPart = { type: 'finish', reason: 'tool_calls', usage: {}, totalMs: 0 };
const USER: ChatMessage[] = [{ role: 'user', content: 'help' }];

const toolCall = (id: string, name: string, args: Record<string, unknown>, extra: Partial<ToolCall> = {}): StreamPart => ({
  type: 'tool-call',
  call: { id, name, arguments: args, rawArguments: JSON.stringify(args), ...extra },
});

/** A model that calls tools on the user's turn and, once results are in, answers with them. */
function toolThenAnswer(calls: StreamPart[]) {
  return createStaticProvider((req: ChatRequest) => {
    const results = req.messages.filter((message) => message.role === 'tool').map((message) => message.content);
    return results.length > 0 ? [{ type: 'text', text: `Answer: ${results.join(' | ')}` }, FINISH_STOP] : [...calls, FINISH_TOOLS];
  });
}

const napping = (name: string, ms: number) =>
  defineTool({ name, description: `sleeps ${ms} ms`, schema: z.object({}), timeoutMs: 5_000, handler: () => new Promise((resolve) => setTimeout(() => resolve({ slept: ms }), ms)) });

describe('runToolConversation', () => {
  it('runs the calls in parallel, reports every step and answers with the results', async () => {
    const registry = new ToolRegistry([...BUILTIN_TOOLS, napping('nap_a', 250), napping('nap_b', 250)]);
    const events: ToolLoopEvent[] = [];
    const started = performance.now();
    const result = await runToolConversation({
      provider: toolThenAnswer([toolCall('c1', 'nap_a', {}), toolCall('c2', 'nap_b', {})]),
      model: 'm',
      messages: USER,
      registry,
      maxRounds: 4,
      onEvent: (event) => events.push(event),
    });
    // One after the other would take at least 500 ms; together ~250 ms (240 ms of margin).
    expect(performance.now() - started).toBeLessThan(490);
    expect(result).toMatchObject({ outcome: 'answered', rounds: 2, text: 'Answer: {"slept":250} | {"slept":250}' });
    expect(events.map((event) => event.type)).toEqual(['round', 'tool-call', 'tool-call', 'tool-result', 'tool-result', 'round', 'text', 'finish']);
    expect(events[3]).toMatchObject({ type: 'tool-result', id: 'c1', name: 'nap_a', ok: true, result: { slept: 250 } });
    expect((events[3] as { ms: number }).ms).toBeGreaterThanOrEqual(240);
    expect(events.at(-1)).toEqual({ type: 'finish', rounds: 2, reason: 'stop' });
    expect(result.messages.slice(1)).toEqual([
      { role: 'assistant', content: '', toolCalls: [expect.objectContaining({ id: 'c1', name: 'nap_a' }), expect.objectContaining({ id: 'c2', name: 'nap_b' })] },
      { role: 'tool', content: '{"slept":250}', toolCallId: 'c1', toolName: 'nap_a' },
      { role: 'tool', content: '{"slept":250}', toolCallId: 'c2', toolName: 'nap_b' },
      { role: 'assistant', content: 'Answer: {"slept":250} | {"slept":250}' },
    ]);
  });

  it('sends bad arguments and failing tools back to the model as errors, and still finishes', async () => {
    const failing = defineTool({ name: 'explode', description: '', schema: z.object({}), timeoutMs: 100, handler: async () => { throw new Error('boom'); } });
    const registry = new ToolRegistry([...BUILTIN_TOOLS, failing]);
    const malformed = toolCall('c1', 'calculator', {}, { rawArguments: '{"expression": "1+', argumentsError: 'arguments are not valid JSON: Unexpected end of JSON input' });
    const result = await runToolConversation({
      provider: toolThenAnswer([malformed, toolCall('c2', 'calculator', { expression: 7 }), toolCall('c3', 'explode', {}), toolCall('c4', 'calculator', { expression: '2+2' })]),
      model: 'm',
      messages: USER,
      registry,
      maxRounds: 2,
    });
    expect(result.outcome).toBe('answered');
    const toolMessages = result.messages.filter((message) => message.role === 'tool').map((message) => JSON.parse(message.content));
    expect(toolMessages).toEqual([
      { error: 'invalid arguments: arguments are not valid JSON: Unexpected end of JSON input' },
      { error: 'invalid arguments: expression: Invalid input: expected string, received number' },
      { error: 'boom' },
      { expression: '2+2', result: 4 },
    ]);
    // The malformed call goes back into the history as `{}`: servers that re-parse history reject broken JSON.
    const sent = result.messages[1]!.toolCalls!;
    expect(sent[0]).not.toHaveProperty('rawArguments');
    expect(sent[0]).toMatchObject({ arguments: {}, argumentsError: expect.any(String) });
    expect(sent[3]!.rawArguments).toBe('{"expression":"2+2"}');
  });

  it('stops at the round limit with a note, answering the unrun calls so the history stays valid', async () => {
    const registry = new ToolRegistry(BUILTIN_TOOLS);
    let requests = 0;
    const stubborn = createStaticProvider(() => {
      requests++;
      return [{ type: 'text', text: `try ${requests}` }, toolCall(`c${requests}`, 'calculator', { expression: `${requests} * 10` }), FINISH_TOOLS];
    });
    const events: ToolLoopEvent[] = [];
    const result = await runToolConversation({ provider: stubborn, model: 'm', messages: USER, registry, maxRounds: 3, onEvent: (event) => events.push(event) });
    expect(requests).toBe(3);
    expect(result).toMatchObject({ outcome: 'max_rounds', rounds: 3, text: 'try 3', note: 'Stopped after 3 rounds: the model was still calling tools.' });
    const results = events.filter((event) => event.type === 'tool-result');
    expect(results.map((event) => (event.ok ? event.result : event.error))).toEqual([
      { expression: '1 * 10', result: 10 },
      { expression: '2 * 10', result: 20 },
      'not run: the limit of 3 rounds was reached',
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', rounds: 3, reason: 'max_rounds', note: result.note });
    const callIds = result.messages.flatMap((message) => message.toolCalls ?? []).map((call) => call.id);
    const answeredIds = result.messages.filter((message) => message.role === 'tool').map((message) => message.toolCallId);
    expect(answeredIds).toEqual(callIds);
  });

  it('ends with an error outcome when the model stream fails', async () => {
    const failure = new ProviderError('busy', 'queue full');
    const events: ToolLoopEvent[] = [];
    const result = await runToolConversation({
      provider: createStaticProvider([{ type: 'text', text: 'partial' }, { type: 'error', error: failure }]),
      model: 'm',
      messages: USER,
      registry: new ToolRegistry(BUILTIN_TOOLS),
      maxRounds: 2,
      onEvent: (event) => events.push(event),
    });
    expect(result).toMatchObject({ outcome: 'error', rounds: 1, text: 'partial', error: failure });
    expect(events.map((event) => event.type)).toEqual(['round', 'text', 'error']);
  });

  it('stops tools and the next request when the caller aborts', async () => {
    const controller = new AbortController();
    const waiting = defineTool({
      name: 'wait',
      description: '',
      schema: z.object({}),
      timeoutMs: 5_000,
      handler: (_args, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('interrupted')))),
    });
    const events: ToolLoopEvent[] = [];
    const result = await runToolConversation({
      provider: toolThenAnswer([toolCall('c1', 'wait', {})]),
      model: 'm',
      messages: USER,
      registry: new ToolRegistry([waiting]),
      maxRounds: 3,
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'tool-call') setTimeout(() => controller.abort(), 20);
      },
    });
    expect(events.find((event) => event.type === 'tool-result')).toMatchObject({ ok: false, error: 'tool "wait" was cancelled' });
    expect(result.outcome).toBe('error');
    expect(result.error?.code).toBe('aborted');
  });

  it('refuses a round limit below one', async () => {
    const options = { provider: toolThenAnswer([]), model: 'm', messages: USER, registry: new ToolRegistry(), maxRounds: 0 };
    await expect(runToolConversation(options)).rejects.toThrow('maxRounds must be a positive integer, got 0');
  });
});
