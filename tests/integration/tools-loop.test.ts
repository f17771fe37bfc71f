import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProvider } from '../../server/providers/index.js';
import type { Provider } from '../../server/providers/types.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { BUILTIN_TOOLS, defineTool, runToolConversation, ToolRegistry, type ToolLoopEvent } from '../../server/tools/index.js';

/** The tool loop against the simulator, over both wire protocols: Ollama native and vLLM's OpenAI API. */

const MODEL: SimModelSpec = { name: 'toolsmith:8b', capabilities: ['completion', 'tools'], tokensPerSecond: 1000, ttftMs: 5, loadMs: 10 };
const TIMEOUTS = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };

const explode = defineTool({
  name: 'explode',
  description: 'always fails',
  schema: z.object({}),
  timeoutMs: 1_000,
  handler: async () => {
    throw new Error('the tool exploded');
  },
});
const registry = new ToolRegistry([...BUILTIN_TOOLS, explode]);

/** One user prompt through the tool loop, with every loop event it emitted. */
async function converse(provider: Provider, prompt: string, maxRounds = 4) {
  const events: ToolLoopEvent[] = [];
  const result = await runToolConversation({
    provider,
    model: MODEL.name,
    messages: [{ role: 'user', content: prompt }],
    registry,
    maxRounds,
    onEvent: (event) => events.push(event),
  });
  return { result, events, calls: events.filter((event) => event.type === 'tool-call') };
}

describe.each(['ollama', 'vllm'] as const)('tool loop against the %s simulator', (flavor) => {
  let sim: Simulator;
  let provider: Provider;

  beforeAll(async () => {
    sim = await startSimulator({ flavor, models: [MODEL], preloaded: true });
    provider = createProvider({ id: `sim-${flavor}`, kind: flavor, url: sim.url, gpu: false, demo: false }, { timeouts: TIMEOUTS });
  });
  afterAll(() => sim.close());

  it('computes an arithmetic question with one calculator call', async () => {
    const { result, calls, events } = await converse(provider, 'What is 12 * 7 + 3?');
    expect(calls).toEqual([expect.objectContaining({ name: 'calculator', arguments: { expression: '12 * 7 + 3' } })]);
    expect(events.find((event) => event.type === 'tool-result')).toMatchObject({ ok: true, result: { result: 87 } });
    expect(result.outcome).toBe('answered');
    expect(result.rounds).toBe(2);
    expect(result.text).toMatch(/^Result: \{"expression":"12 \* 7 \+ 3","result":87\}/);
  });

  it('runs parallel calls and answers with both results', async () => {
    const { result, calls } = await converse(
      provider,
      'Two things: [[tool:calculator {"expression":"2^10"}]] and [[tool:convert_units {"value":5,"from":"km","to":"mi"}]]',
    );
    expect(calls.map((call) => call.name)).toEqual(['calculator', 'convert_units']);
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);
    expect(result.text).toContain('"result":1024}; {"value":5,"from":"km","to":"mi","result":3.106855961');
  });

  it('reassembles long arguments and answers from them', async () => {
    const { result, calls } = await converse(
      provider,
      'Span? [[tool:datetime {"action":"difference","from":"2024-01-01","to":"2024-12-25","timeZone":"Europe/Paris"}]]',
    );
    expect(calls[0]).toMatchObject({ arguments: { action: 'difference', from: '2024-01-01', to: '2024-12-25', timeZone: 'Europe/Paris' } });
    expect(result.text).toContain('"days":359');
  });

  it('sends arguments that fail the schema back as an error and still finishes', async () => {
    const { result, events } = await converse(provider, 'Compute [[tool:calculator {"expr":"1+1"}]]');
    expect(events.find((event) => event.type === 'tool-result')).toMatchObject({ ok: false, error: expect.stringContaining('invalid arguments: expression:') });
    expect(result.outcome).toBe('answered');
    expect(result.text).toContain('Result: {"error":"invalid arguments: expression: Invalid input');
  });

  it('sends a failing tool back as an error result and still finishes', async () => {
    const { result } = await converse(provider, 'Try [[tool:explode {}]]');
    expect(result.outcome).toBe('answered');
    expect(result.text).toMatch(/^Result: \{"error":"the tool exploded"\}/);
  });

  it('stops at the round limit with a note when the model still wants tools', async () => {
    const { result, events } = await converse(provider, 'What is 6 * 7?', 1);
    expect(result).toMatchObject({ outcome: 'max_rounds', rounds: 1, note: 'Stopped after 1 round: the model was still calling tools.' });
    expect(events.find((event) => event.type === 'tool-result')).toMatchObject({ ok: false, error: 'not run: the limit of 1 rounds was reached' });
  });
});

describe('tool-call quirks of each protocol', () => {
  /** [[badargs]] makes the simulator send the call's arguments as text that is not JSON. */
  const BAD_ARGUMENTS = '[[badargs]] [[tool:calculator {"expression":"1+1"}]]';

  it('vLLM: arguments streamed in fragments are joined; malformed ones go back to the model as an error', async () => {
    const sim = await startSimulator({ flavor: 'vllm', models: [MODEL], preloaded: true });
    try {
      const prompt = 'Go [[tool:calculator {"expression":"(1 + 2) * 3 - 4 / 5"}]]';
      // First show, on the raw wire, that the arguments really arrive in pieces.
      const response = await fetch(`${sim.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL.name, stream: true, messages: [{ role: 'user', content: prompt }], tools: registry.toToolSpecs().map((spec) => ({ type: 'function', function: spec })) }),
      });
      const fragments = (await response.text()).match(/"arguments":"[^"]/g) ?? [];
      expect(fragments.length).toBeGreaterThan(1);

      const provider = createProvider({ id: 'vllm', kind: 'vllm', url: sim.url, gpu: false, demo: false }, { timeouts: TIMEOUTS });
      const { result: whole } = await converse(provider, prompt, 3);
      expect(whole.text).toContain('"result":8.2');

      const { result: broken, events } = await converse(provider, BAD_ARGUMENTS, 3);
      expect(events.find((event) => event.type === 'tool-call')).toMatchObject({ name: 'calculator', argumentsError: expect.stringContaining('not valid JSON') });
      expect(broken.outcome).toBe('answered');
      expect(broken.text).toMatch(/^Result: \{"error":"invalid arguments: arguments are not valid JSON/);
    } finally {
      await sim.close();
    }
  });

  it('Ollama: malformed arguments come back as plain text, so the loop answers without a tool call', async () => {
    const sim = await startSimulator({ flavor: 'ollama', models: [MODEL], preloaded: true });
    try {
      const provider = createProvider({ id: 'ollama', kind: 'ollama', url: sim.url, gpu: false, demo: false }, { timeouts: TIMEOUTS });
      const { result, events } = await converse(provider, BAD_ARGUMENTS, 3);
      expect(events.some((event) => event.type === 'tool-call')).toBe(false);
      expect(result).toMatchObject({ outcome: 'answered', rounds: 1 });
      expect(result.text).toContain('{"name":"calculator","arguments":{"expression":"1+1"');
    } finally {
      await sim.close();
    }
  });
});
