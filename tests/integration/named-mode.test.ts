import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnswer, type SimModelSpec } from '../../server/sim/index.js';
import { call, ok, recordFrames, startTestArena, TEST_MODELS, type TestArena } from '../helpers/arena.js';

const THINKER: SimModelSpec = { name: 'mdl-sage:8b', family: 'sage', tokensPerSecond: 400, ttftMs: 5, maxTokens: 60, capabilities: ['completion', 'thinking'] };

describe('named side-by-side mode (not blind, never rated)', () => {
  let arena: TestArena;
  beforeAll(async () => {
    // Public export, so the check that named battles stay out of it reads a real export.
    arena = await startTestArena({ models: [...TEST_MODELS, THINKER], config: { exportAccess: 'public' } });
  });
  afterAll(() => arena.close());

  it('lists the available models by name', async () => {
    const { models } = await ok(await arena.client(), 'models:list', {});
    expect(models.map((m) => m.id).sort()).toEqual([...TEST_MODELS, THINKER].map((m) => m.name).sort());
  });

  it('runs the two chosen models in the order given, named from the start, and refuses a vote and Next', async () => {
    const client = await arena.client();
    const frames = recordFrames(client);
    const [a, b] = [TEST_MODELS[2]!.name, TEST_MODELS[0]!.name];
    const { battle } = await ok(client, 'battle:start', { prompt: 'Explain tides', models: [a, b] });
    expect(battle.mode).toBe('named');
    expect(battle.named).toEqual({ left: a, right: b });
    await frames.settled(battle.id);
    expect(frames.text(battle.id, 'left').length).toBeGreaterThan(0);
    expect(frames.text(battle.id, 'right').length).toBeGreaterThan(0);
    const vote = await call(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
    expect(vote.ok).toBe(false);
    expect(!vote.ok && vote.error.code).toBe('conflict');
    const next = await call(client, 'battle:next', { battleId: battle.id });
    expect(!next.ok && next.error.code).toBe('conflict');
    // Nor does the crowd vote on it: the names are public from the start.
    const token = new URL(battle.sharePath!, arena.url).searchParams.get('t')!;
    const crowd = await call(await arena.client(), 'watch:vote', { battleId: battle.id, token, choice: 'left' });
    expect(!crowd.ok && crowd.error.code).toBe('conflict');
    // Nothing of it reaches the ratings' data or the exports.
    const exportResponse = await fetch(new URL('/api/export/battles.jsonl', arena.url));
    expect(exportResponse.status).toBe(200);
    const exported = await exportResponse.text();
    expect(exported).not.toContain(battle.id);
    expect(await arena.arena.store.listVotes()).toEqual([]);
    // My battles names them from the start too.
    const { battles } = await ok(client, 'session:history', {});
    expect(battles[0]).toMatchObject({ id: battle.id, mode: 'named', names: { left: a, right: b } });
  });

  it('refuses an unavailable model and the same model twice, with clear errors', async () => {
    const client = await arena.client();
    const missing = await call(client, 'battle:start', { prompt: 'hi', models: ['nope:1b', TEST_MODELS[0]!.name] });
    expect(!missing.ok && missing.error).toEqual({ code: 'unavailable', message: 'The model "nope:1b" is not available right now.' });
    const twice = await call(client, 'battle:start', { prompt: 'hi', models: [TEST_MODELS[0]!.name, TEST_MODELS[0]!.name] });
    expect(!twice.ok && twice.error.code).toBe('bad_request');
  });

  it('streams a thinking model’s reasoning as it comes (not blind), and keeps it in the view', async () => {
    const client = await arena.client();
    const frames = recordFrames(client);
    const prompt = 'Explain in detail how bridges are built and why they stand.';
    const reasoning = simulatedAnswer(THINKER, [{ role: 'user', content: prompt }]).reasoning;
    expect(reasoning.length).toBeGreaterThan(20);
    const { battle } = await ok(client, 'battle:start', { prompt, models: [THINKER.name, TEST_MODELS[0]!.name] });
    await frames.settled(battle.id);
    const events = frames.events(battle.id);
    const streamed = events.map((e) => (e.t === 'delta' && e.side === 'left' ? (e.reasoning ?? '') : '')).join('');
    expect(streamed).toBe(reasoning);
    expect(events.some((e) => e.t === 'thinking')).toBe(false);
    const resumed = await ok(client, 'battle:resume', { battleId: battle.id, afterSeq: 0 });
    expect((resumed.battle ?? battle).turns.at(-1)?.answers.left.reasoning).toBe(reasoning);
  });
});
