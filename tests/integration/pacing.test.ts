import { afterEach, describe, expect, it } from 'vitest';
import { simulatedAnswer, type SimModelSpec } from '../../server/sim/index.js';
import { ok, recordFrames, startTestArena, type TestArena } from '../helpers/arena.js';

/**
 * `arena.pacing: matched` against a fast and a slow model: a client sees both answers start
 * together and grow at the slower one's pace, and gets both answers whole. With pacing off (the
 * default) the fast side visibly finishes first: the side channel the option closes.
 */

const FAST: SimModelSpec = { name: 'mdl-swift:1b', family: 'swift', tokensPerSecond: 500, ttftMs: 5, maxTokens: 30 };
const SLOW: SimModelSpec = { name: 'mdl-slug:9b', family: 'slug', tokensPerSecond: 40, ttftMs: 250, maxTokens: 30 };
const PROMPT = 'Explain in detail how bridges are built and why they stand.';

async function timedBattle(t: TestArena) {
  const owner = await t.client();
  const rec = recordFrames(owner);
  const at: Record<string, number> = {};
  const startedAt = performance.now();
  owner.on('battle:events', (frame) => {
    for (const e of frame.events) {
      if (e.t === 'delta' && e.text) at[`first-${e.side}`] ??= performance.now() - startedAt;
      if (e.t === 'end') at[`end-${e.side}`] = performance.now() - startedAt;
    }
  });
  const { battle } = await ok(owner, 'battle:start', { prompt: PROMPT });
  await rec.settled(battle.id);
  const { reveal } = await ok(owner, 'battle:vote', { battleId: battle.id, choice: 'tie' });
  const fast = reveal.left.model === FAST.name ? 'left' : 'right';
  const slow = fast === 'left' ? 'right' : 'left';
  return {
    fast: { first: at[`first-${fast}`]!, end: at[`end-${fast}`]!, text: rec.text(battle.id, fast) },
    slow: { first: at[`first-${slow}`]!, end: at[`end-${slow}`]!, text: rec.text(battle.id, slow) },
  };
}

describe('matched pacing', () => {
  let t: TestArena | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('matched: both answers start together and end together, whole', async () => {
    t = await startTestArena({ models: [FAST, SLOW], config: { arena: { pacing: 'matched' } } });
    const r = await timedBattle(t);
    expect(r.fast.first).toBeGreaterThanOrEqual(SLOW.ttftMs!);
    expect(Math.abs(r.fast.first - r.slow.first)).toBeLessThan(60);
    expect(r.fast.end).toBeGreaterThan(0.7 * r.slow.end);
    const whole = (m: SimModelSpec) => simulatedAnswer(m, [{ role: 'user', content: PROMPT }]).text;
    expect(r.fast.text).toBe(whole(FAST));
    expect(r.slow.text).toBe(whole(SLOW));
  });

  it('off (the default): the fast side shows its speed', async () => {
    t = await startTestArena({ models: [FAST, SLOW] });
    const r = await timedBattle(t);
    expect(r.fast.first).toBeLessThan(r.slow.first - 150);
    expect(r.fast.end).toBeLessThan(0.5 * r.slow.end);
  });
});
