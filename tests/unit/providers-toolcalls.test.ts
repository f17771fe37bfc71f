import { describe, expect, it } from 'vitest';
import { ToolCallAccumulator } from '../../server/providers/toolcalls.js';

describe('ToolCallAccumulator', () => {
  it('joins OpenAI argument fragments per index, parallel calls interleaved', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'call_a', name: 'get_weather', arguments: '' });
    acc.addFragment({ index: 1, id: 'call_b', name: 'get_time', arguments: '{"tz"' });
    acc.addFragment({ index: 0, arguments: '{"city": "Pa' });
    acc.addFragment({ index: 1, arguments: ': "UTC"}' });
    acc.addFragment({ index: 0, arguments: 'ris"}' });
    expect(acc.drain()).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' }, rawArguments: '{"city": "Paris"}' },
      { id: 'call_b', name: 'get_time', arguments: { tz: 'UTC' }, rawArguments: '{"tz": "UTC"}' },
    ]);
  });

  it('starts a new call when a new id arrives at a reused index 0', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' });
    acc.addFragment({ index: 0, id: 'call_2', name: 'get_weather', arguments: '{"city":"London"}' });
    expect(acc.drain().map((c) => [c.id, c.arguments])).toEqual([
      ['call_1', { city: 'Paris' }],
      ['call_2', { city: 'London' }],
    ]);
  });

  it('keeps appending to the same call when later fragments repeat its id', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'call_1', name: 'f', arguments: '{"a":' });
    acc.addFragment({ index: 0, id: 'call_1', name: 'f', arguments: '1}' });
    expect(acc.drain()).toEqual([{ id: 'call_1', name: 'f', arguments: { a: 1 }, rawArguments: '{"a":1}' }]);
  });

  it('joins a name that arrives in pieces', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'c', name: 'get_' });
    acc.addFragment({ index: 0, name: 'weather', arguments: '{}' });
    expect(acc.drain()[0]?.name).toBe('get_weather');
  });

  it('reports malformed arguments instead of throwing', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'c1', name: 'f', arguments: '{"a": 1' });
    acc.addFragment({ index: 1, id: 'c2', name: 'g', arguments: '[1, 2]' });
    const [broken, notObject] = acc.drain();
    expect(broken).toMatchObject({ id: 'c1', arguments: {}, rawArguments: '{"a": 1' });
    expect(broken?.argumentsError).toMatch(/not valid JSON/);
    expect(notObject).toMatchObject({ id: 'c2', arguments: {}, argumentsError: 'arguments are not a JSON object' });
  });

  it('treats empty arguments as an empty object', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'c', name: 'now' });
    expect(acc.drain()).toEqual([{ id: 'c', name: 'now', arguments: {}, rawArguments: '' }]);
  });

  it('completes Ollama whole calls at once, generating distinct ids when absent', () => {
    const acc = new ToolCallAccumulator();
    const first = acc.complete({ name: 'get_weather', arguments: { city: 'Paris' } });
    const second = acc.complete({ name: 'get_weather', arguments: { city: 'Oslo' } });
    const withId = acc.complete({ id: 'call_given', name: 'f', arguments: {} });
    expect(first).toMatchObject({ name: 'get_weather', arguments: { city: 'Paris' }, rawArguments: '{"city":"Paris"}' });
    expect(first.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(second.id).not.toBe(first.id);
    expect(withId.id).toBe('call_given');
    expect(acc.drain()).toEqual([]);
  });

  it('accepts arguments already sent as an object in a fragment', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'c', name: 'f', arguments: { x: [1] } });
    expect(acc.drain()[0]?.arguments).toEqual({ x: [1] });
  });

  it('forgets drained calls', () => {
    const acc = new ToolCallAccumulator();
    acc.addFragment({ index: 0, id: 'c', name: 'f', arguments: '{}' });
    acc.drain();
    acc.addFragment({ index: 0, id: 'd', name: 'g', arguments: '{}' });
    expect(acc.drain().map((c) => c.id)).toEqual(['d']);
  });
});
