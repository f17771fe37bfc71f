import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ToolSpec } from '../../server/providers/types.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';
import { NO_TOOLS, PLAIN, THINKS_IN_FIELD, THINKS_IN_TAGS, providerFor, type Flavor } from './providers-sim-setup.js';

const TOOLS: ToolSpec[] = ['get_weather', 'get_time'].map((name) => ({ name, description: name, parameters: { type: 'object' } }));
const TOOL_NAMES = TOOLS.map((t) => t.name);
/** Slow enough that speed and latency figures mean something. */
const MEASURED: SimModelSpec = { name: 'gemma2:2b', family: 'gemma', tokensPerSecond: 100, ttftMs: 60, loadMs: 120, maxTokens: 25 };

const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];

describe.each<Flavor>(['ollama', 'vllm'])('%s provider against the simulator', (flavor) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ flavor, models: [PLAIN, THINKS_IN_FIELD, THINKS_IN_TAGS, NO_TOOLS, MEASURED] });
  });
  afterAll(() => sim.close());

  const stream = async (spec: SimModelSpec, messages: ChatMessage[], tools?: ToolSpec[]) =>
    summarize(await collect(providerFor(flavor, sim.url).stream({ model: spec.name, messages, tools })));

  it('streams exactly the answer text and reports usage', async () => {
    const messages = ask('Tell me about rivers.');
    const expected = simulatedAnswer(PLAIN, messages);
    const s = await stream(PLAIN, messages);
    expect(s.error).toBeUndefined();
    expect(s.text).toBe(expected.text);
    expect(s.reasoning).toBe('');
    expect(s.finish).toMatchObject({ reason: 'stop', usage: { completionTokens: expected.tokens.length } });
    expect(s.finish?.usage.promptTokens).toBeGreaterThan(0);
    expect({ terminals: s.terminals, last: s.terminalIsLast }).toEqual({ terminals: 1, last: true });
  });

  it.each([
    ['a separate field', THINKS_IN_FIELD],
    ['<think> tags', THINKS_IN_TAGS],
  ])('splits reasoning sent in %s from the answer', async (_how, spec) => {
    const messages = ask('Why is the sky blue?');
    const expected = simulatedAnswer(spec, messages);
    expect(expected.reasoning).not.toBe('');
    const s = await stream(spec, messages);
    expect(s.reasoning).toBe(expected.reasoning);
    expect(s.text).toBe(expected.text);
  });

  it('delivers parallel tool calls with parsed arguments', async () => {
    const messages = ask('Plan my day [[tool:get_weather {"city":"Paris","days":2}]] [[tool:get_time {"tz":"Europe/Paris"}]]');
    const expected = simulatedAnswer(PLAIN, messages, { tools: TOOL_NAMES });
    const s = await stream(PLAIN, messages, TOOLS);
    expect(s.toolCalls.map((c) => [c.name, c.arguments, c.argumentsError])).toEqual(
      expected.toolCalls.map((c) => [c.name, c.arguments, undefined]),
    );
    expect(new Set(s.toolCalls.map((c) => c.id)).size).toBe(2);
    expect(s.finish?.reason).toBe('tool_calls');
  });

  it('measures time to first token and generation speed', async () => {
    const s = await stream(MEASURED, ask('Describe a mountain.'));
    expect(s.finish?.ttftMs).toBeGreaterThanOrEqual(MEASURED.ttftMs! * 0.8);
    expect(s.finish?.totalMs).toBeGreaterThan(s.finish?.ttftMs ?? Infinity);
    expect(s.finish?.tokensPerSecond).toBeGreaterThan(MEASURED.tokensPerSecond! * 0.5);
    expect(s.finish?.tokensPerSecond).toBeLessThan(MEASURED.tokensPerSecond! * 1.5);
  });

  it('passes a partial assistant message on so the backend continues it (prefill)', async () => {
    const messages = ask('Tell me about lakes.');
    const full = simulatedAnswer(PLAIN, messages).text;
    const prefix = full.slice(0, Math.floor(full.length / 2));
    const s = await stream(PLAIN, [...messages, { role: 'assistant', content: prefix }]);
    expect(prefix + s.text).toBe(full);
  });

  if (flavor === 'ollama') {
    it('reports the load time of a cold model', async () => {
      const cold = { ...MEASURED, name: 'gemma2:2b' };
      const fresh = await startSimulator({ flavor, models: [cold] });
      const s = summarize(await collect(providerFor(flavor, fresh.url).stream({ model: cold.name, messages: ask('hi') })));
      await fresh.close();
      expect(s.finish?.loadMs).toBeGreaterThanOrEqual(cold.loadMs! * 0.9);
    });
  }

  if (flavor === 'vllm') {
    it('keeps parallel calls apart when the server reuses index 0', async () => {
      const messages = ask('[[index0]] [[tool:get_weather {"city":"Paris"}]] [[tool:get_weather {"city":"London"}]]');
      const expected = simulatedAnswer(PLAIN, messages, { tools: TOOL_NAMES });
      const s = await stream(PLAIN, messages, TOOLS);
      expect(s.toolCalls.map((c) => [c.id, c.arguments])).toEqual(expected.toolCalls.map((c) => [c.id, c.arguments]));
    });

    it('flags malformed tool arguments instead of failing the stream', async () => {
      const s = await stream(PLAIN, ask('[[badargs]] [[tool:get_weather {"city":"Paris"}]]'), TOOLS);
      expect(s.error).toBeUndefined();
      expect(s.toolCalls).toHaveLength(1);
      expect(s.toolCalls[0]?.argumentsError).toMatch(/not valid JSON/);
      expect(s.toolCalls[0]?.rawArguments).toBe('{"city":"Paris"');
    });
  }
});
