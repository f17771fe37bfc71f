import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnswer, type SimModelSpec } from '../../server/sim/index.js';
import { ok, recordFrames, startTestArena, type TestArena } from '../helpers/arena.js';

/**
 * A thinking model against a plain one. Before the vote, nothing any client receives (frames,
 * acks, a resume view) tells which side reasons: no reasoning text, no side on the neutral
 * `thinking` event. The vote reveals each side's reasoning with the names.
 */

const THINKER: SimModelSpec = { name: 'mdl-sage:8b', family: 'sage', tokensPerSecond: 400, ttftMs: 5, maxTokens: 60, capabilities: ['completion', 'thinking'] };
const PLAIN: SimModelSpec = { name: 'mdl-brisk:2b', family: 'brisk', tokensPerSecond: 400, ttftMs: 5, maxTokens: 30 };
const PROMPT = 'Explain in detail how bridges are built and why they stand.';

describe('blind reasoning', () => {
  let t: TestArena;
  beforeAll(async () => {
    t = await startTestArena({ models: [THINKER, PLAIN], config: { limits: { battlesPerMinute: 100 } } });
  });
  afterAll(() => t.close());

  it('sends only a side-less thinking state before the vote, and the reasoning with the reveal', async () => {
    const reasoning = simulatedAnswer(THINKER, [{ role: 'user', content: PROMPT }]).reasoning;
    expect(reasoning.length).toBeGreaterThan(20);
    const owner = await t.client();
    const rec = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: PROMPT });
    await rec.settled(battle.id);
    const resumed = await ok(owner, 'battle:resume', { battleId: battle.id, afterSeq: 0 });

    const beforeVote = JSON.stringify([rec.raw, battle, resumed]);
    const escaped = (text: string) => JSON.stringify(text).slice(1, -1);
    for (const fragment of [reasoning.slice(0, 30), reasoning.slice(-30)]) expect(beforeVote).not.toContain(escaped(fragment));
    const events = rec.events(battle.id);
    expect(events.some((e) => e.t === 'delta' && e.reasoning)).toBe(false);
    const thinking = events.filter((e) => e.t === 'thinking');
    expect(thinking.map((e) => e.t === 'thinking' && e.active)).toEqual([true, false]);
    for (const e of thinking) expect(Object.keys(e).sort()).toEqual(['active', 'seq', 't', 'turn']);
    const view = resumed.battle ?? battle;
    for (const side of ['left', 'right'] as const) expect(view.turns.at(-1)?.answers[side].reasoning ?? '').toBe('');

    const { reveal } = await ok(owner, 'battle:vote', { battleId: battle.id, choice: 'tie' });
    const thinkerSide = reveal.left.model === 'mdl-sage:8b' ? 'left' : 'right';
    const plainSide = thinkerSide === 'left' ? 'right' : 'left';
    expect(reveal[thinkerSide].reasoning).toEqual([reasoning]);
    expect(reveal[plainSide].reasoning).toBeUndefined();
    const after = await ok(owner, 'battle:resume', { battleId: battle.id, afterSeq: 0 });
    expect(after.battle?.turns[0]?.answers[thinkerSide].reasoning).toBe(reasoning);
  });
});
