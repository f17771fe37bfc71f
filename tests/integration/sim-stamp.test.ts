import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochMicros, readStamps, simulatedAnswer, startSimulator, stripStamps, type Simulator } from '../../server/sim/index.js';

const MODEL = { name: 'mdl-stamp:1b', tokensPerSecond: 200, ttftMs: 5, maxTokens: 20 };
const MESSAGES = [{ role: 'user', content: 'Describe a lighthouse.' }];

/** Streams /api/chat and returns each NDJSON line's message content. */
async function contents(sim: Simulator): Promise<string[]> {
  const res = await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: MODEL.name, messages: MESSAGES }) });
  const lines = (await res.text()).trim().split('\n').map((line) => JSON.parse(line) as { message: { content: string }; done: boolean });
  return lines.filter((line) => !line.done).map((line) => line.message.content);
}

describe('simulator token stamps', () => {
  let stamped: Simulator;
  let plain: Simulator;
  beforeAll(async () => {
    stamped = await startSimulator({ flavor: 'ollama', models: [MODEL], preloaded: true, stampTokens: true });
    plain = await startSimulator({ flavor: 'ollama', models: [MODEL], preloaded: true });
  });
  afterAll(async () => {
    await stamped.close();
    await plain.close();
  });

  it('stamps every content token with its emission time, recoverable after tokens are merged', async () => {
    const before = epochMicros();
    const tokens = await contents(stamped);
    const after = epochMicros();
    const expected = simulatedAnswer(MODEL, MESSAGES);
    expect(tokens.length).toBe(expected.tokens.length);
    tokens.forEach((token, i) => expect(token).toMatch(new RegExp(`^⟦\\d+⟧${expected.tokens[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)));
    // As a relay would deliver them: merged into one delta.
    const stamps = readStamps(tokens.join(''));
    expect(stamps.length).toBe(tokens.length);
    expect(stamps.every((t, i) => t >= before && t <= after && (i === 0 || t >= stamps[i - 1]!))).toBe(true);
    // Paced (200 tokens/s): the stamps are emission times, not one time for the whole answer.
    expect(stamps.at(-1)! - stamps[0]!).toBeGreaterThan(1_000);
    expect(stripStamps(tokens.join(''))).toBe(expected.text);
  });

  it('is off by default', async () => {
    const tokens = await contents(plain);
    expect(tokens.join('')).toBe(simulatedAnswer(MODEL, MESSAGES).text);
    expect(readStamps(tokens.join(''))).toEqual([]);
  });
});
