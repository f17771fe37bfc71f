import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, recordFrames, startTestArena, type TestArena } from '../helpers/arena.js';

describe('My battles (session:history)', () => {
  let arena: TestArena;
  beforeAll(async () => {
    arena = await startTestArena();
  });
  afterAll(() => arena.close());

  it('lists the session’s own battles newest first, naming models only once voted on', async () => {
    const owner = await arena.client();
    const frames = recordFrames(owner);
    const first = (await ok(owner, 'battle:start', { prompt: 'Compare tea and coffee', route: 'arena' })).battle;
    await frames.settled(first.id);
    await ok(owner, 'battle:vote', { battleId: first.id, choice: 'left' });
    const second = (await ok(owner, 'battle:start', { prompt: 'Explain tides', route: 'arena' })).battle;

    const { battles } = await ok(owner, 'session:history', {});
    expect(battles.map((b) => [b.id, b.prompt])).toEqual([
      [second.id, 'Explain tides'],
      [first.id, 'Compare tea and coffee'],
    ]);
    // Still blind: no names, no vote.
    expect(battles[0]!.names).toBeUndefined();
    expect(battles[0]!.vote).toBeUndefined();
    expect(JSON.stringify(battles[0])).not.toMatch(/mdl-/);
    // Voted: both names, and a watch link that really opens it (with the reveal).
    expect(battles[1]!.vote).toBe('left');
    expect(Object.values(battles[1]!.names!)).toHaveLength(2);
    const [, id, token] = /^\/watch\/([\w-]+)\?t=([\w-]+)$/.exec(battles[1]!.sharePath)!;
    const viewer = await arena.client();
    const joined = await ok(viewer, 'watch:join', { battleId: id!, token: token! });
    expect(joined.battle.reveal?.left.label).toBe(battles[1]!.names!.left);
  });

  it('shows another session nothing of them', async () => {
    const stranger = await arena.client();
    expect((await ok(stranger, 'session:history', {})).battles).toEqual([]);
  });
});
