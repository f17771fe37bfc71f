import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ok, recordFrames, startTestArena, TEST_MODELS, type TestArena } from '../helpers/arena.js';

describe('named side-by-side mode (not blind, never rated)', () => {
  let arena: TestArena;
  beforeAll(async () => {
    arena = await startTestArena();
  });
  afterAll(() => arena.close());

  it('lists the available models by name', async () => {
    const { models } = await ok(await arena.client(), 'models:list', {});
    expect(models.map((m) => m.id).sort()).toEqual(TEST_MODELS.map((m) => m.name).sort());
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
    // Nothing of it reaches the ratings' data or the exports.
    const exported = await (await fetch(new URL('/api/export/battles.jsonl', arena.url))).text();
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
});
