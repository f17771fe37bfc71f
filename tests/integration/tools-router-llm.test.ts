import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../server/providers/index.js';
import { createRouter } from '../../server/router/index.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';

/** The router's optional LLM layer against real backends: the simulator on both protocols. */

const JUDGE: SimModelSpec = { name: 'judge:1b', tokensPerSecond: 1000, ttftMs: 5, loadMs: 10 };
const TIMEOUTS = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };
// A prompt no rule catches; the classifier is off so that the LLM is always asked.
const PROMPT = 'tell me something about otters';

describe.each(['ollama', 'vllm'] as const)('LLM routing layer against the %s simulator', (flavor) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ flavor, models: [JUDGE], preloaded: true });
  });
  afterAll(() => sim.close());

  const routerFor = (timeoutMs: number) =>
    createRouter({
      classifier: false,
      llm: { provider: createProvider({ id: 'judge', kind: flavor, url: sim.url, gpu: false, demo: false }, { timeouts: TIMEOUTS }), model: JUDGE.name, timeoutMs },
    });

  it('abstains when the model answers with prose instead of one word', async () => {
    sim.setFault({ kind: 'none' });
    const decision = await routerFor(2_000).decide(PROMPT);
    expect(decision).toMatchObject({ route: 'arena', layer: 'llm', confidence: 0.5 });
    expect(decision.reason).toMatch(/^no rule matched; LLM judge:1b answered ".+", not TOOLS or ARENA: arena by default$/);
  });

  it('abstains at its deadline when the backend hangs', async () => {
    sim.setFault({ kind: 'hang' });
    const started = performance.now();
    const decision = await routerFor(300).decide(PROMPT);
    const elapsed = performance.now() - started;
    sim.setFault({ kind: 'none' });
    expect(decision).toMatchObject({ route: 'arena', layer: 'llm', reason: 'no rule matched; LLM judge:1b failed (no answer within 300 ms): arena by default' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('abstains when the backend is unreachable', async () => {
    const gone = await startSimulator({ flavor, models: [JUDGE] });
    await gone.close();
    const unreachable = createRouter({
      classifier: false,
      llm: { provider: createProvider({ id: 'gone', kind: flavor, url: gone.url, gpu: false, demo: false }, { timeouts: TIMEOUTS }), model: JUDGE.name, timeoutMs: 2_000 },
    });
    const decision = await unreachable.decide(PROMPT);
    expect(decision).toMatchObject({ route: 'arena', layer: 'llm', reason: expect.stringContaining('LLM judge:1b failed (connection_refused') });
  });
});
