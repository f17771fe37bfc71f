import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import type { Leaderboard } from '../../src/lib/shared/protocol.js';
import { call, ok, recordFrames, startTestArena, TEST_MODELS, type ArenaClient, type TestArena } from '../helpers/arena.js';

// Slow enough that a test can cut a stream while it runs.
const SLOW = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 40, maxTokens: 200 }));
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const unexpected: unknown[] = [];
const record = (err: unknown) => unexpected.push(err);
beforeAll(() => {
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
});
afterAll(() => {
  process.off('unhandledRejection', record);
  process.off('uncaughtException', record);
});
afterEach(() => expect(unexpected).toEqual([]));

async function board(client: ArenaClient): Promise<Pick<Leaderboard, 'totalVotes' | 'countedVotes'>> {
  const { board } = await ok(client, 'leaderboard:subscribe', {});
  return { totalVotes: board.totalVotes, countedVotes: board.countedVotes };
}

async function expectRefused(client: ArenaClient, battleId: string) {
  for (const choice of ['left', 'right', 'tie'] as const) {
    const res = await call(client, 'battle:vote', { battleId, choice });
    expect(res).toMatchObject({ ok: false, error: { code: 'answer_failed', message: expect.stringMatching(/failed or was cut off.*Regenerate/) } });
  }
}

describe('votes on failed answers', () => {
  let sim: Simulator;
  let t: TestArena;

  beforeEach(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: SLOW, preloaded: true });
    t = await startTestArena({ sim });
  });
  afterEach(async () => {
    await t.close();
    await sim.close();
  });

  it('both answers failed: left, right and tie are refused and the board does not move; "both bad" is stored, not counted', async () => {
    const client = await t.client();
    const before = await board(client);
    sim.setFault({ kind: 'error_after', tokens: 3 });
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'Explain tides.' });
    await rec.settled(battle.id);
    const ends = rec.events(battle.id).filter((e) => e.t === 'end');
    expect(ends.map((e) => e.t === 'end' && e.status)).toEqual(['error', 'error']);

    await expectRefused(client, battle.id);
    expect(await t.arena.store.listVotes()).toEqual([]);
    expect(await board(client)).toEqual(before);

    const voted = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'bothbad' });
    expect(voted).toMatchObject({ counted: false, reason: 'answer_failed' });
    expect(voted.reveal.left.model).toMatch(/^mdl-/);
    const votes = await t.arena.store.listVotes();
    expect(votes.map((v) => [v.battleId, v.excluded])).toEqual([[battle.id, true]]);
    const after = await board(client);
    expect(after.countedVotes).toBe(before.countedVotes);
  });

  it("the user's own Stop is a normal answer: the vote is accepted and counted", async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'Tell a long story.' });
    await rec.until(() => rec.events(battle.id).some((e) => e.t === 'delta'));
    await ok(client, 'battle:stop', { battleId: battle.id });
    await rec.settled(battle.id);
    expect(rec.events(battle.id).filter((e) => e.t === 'end').map((e) => e.t === 'end' && e.status)).toEqual(['stopped', 'stopped']);
    const voted = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
    expect(voted.counted).toBe(true);
    expect(voted.reason).toBeUndefined();
    expect((await t.arena.store.listVotes()).map((v) => v.excluded)).toEqual([false]);
  });

  it('an answer that names its own model: the vote is stored, and the ack says it will not count and why', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    // Every model echoes this; whichever pair answers, each side claims its own name and maker.
    const claim = 'Hi! I am Aurora. My name is Borealis. I am Cinder. I am Dune, happy to help.';
    const { battle } = await ok(client, 'battle:start', { prompt: `Who are you? [[echo:${b64(claim)}]]` });
    await rec.settled(battle.id);
    const events = rec.events(battle.id);
    expect(events.filter((e) => e.t === 'leak').length).toBe(2);
    // Decided once on the whole answer, when it ends: never on a stream chunk.
    for (const leak of events.filter((e) => e.t === 'leak')) {
      const end = events.find((e) => e.t === 'end' && leak.t === 'leak' && e.side === leak.side)!;
      expect(leak.seq).toBeGreaterThan(end.seq);
    }
    const voted = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
    expect(voted).toMatchObject({ counted: false, reason: 'identity_leak' });
    expect((await t.arena.store.listVotes()).map((v) => v.excluded)).toEqual([true]);
  });
});

describe('leak words come from the deployment names too', () => {
  it('flags `model-a` served by mdl-aurora when it says "I\'m Aurora", and only that side', async () => {
    const t = await startTestArena({
      config: {
        models: [
          { id: 'model-a', deployments: [{ backend: 'sim', model: 'mdl-aurora:1b' }] },
          { id: 'model-b', deployments: [{ backend: 'sim', model: 'mdl-borealis:2b' }] },
        ],
      },
    });
    try {
      const client = await t.client();
      const rec = recordFrames(client);
      const claim = "Hello! I'm Aurora, happy to help. Auroras and the aurora borealis are lovely.";
      const { battle } = await ok(client, 'battle:start', { prompt: `[[echo:${b64(claim)}]]` });
      await rec.settled(battle.id);
      const leaks = rec.events(battle.id).filter((e) => e.t === 'leak');
      expect(leaks.length).toBe(1);
      const voted = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'tie' });
      const side = leaks[0]!.t === 'leak' ? leaks[0]!.side : 'left';
      expect(voted.reveal[side].model).toBe('model-a');
      expect(voted).toMatchObject({ counted: false, reason: 'identity_leak' });
    } finally {
      await t.close();
    }
  });
});

describe('a server restart cuts both answers', () => {
  let sim: Simulator;
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-restart-'));
  afterAll(async () => {
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('marks them interrupted (not stopped) and refuses left/right/tie after the restart', async () => {
    sim = await startSimulator({ flavor: 'ollama', models: SLOW, preloaded: true });
    const session = newSessionToken();
    const first = await startTestArena({ sim, config: { dataDir } });
    const owner = await first.client(session);
    const rec = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: 'Describe a long journey.' });
    await rec.until(() => ['left', 'right'].every((s) => rec.events(battle.id).some((e) => e.t === 'delta' && e.side === s)));
    await first.close();

    const second = await startTestArena({ sim, config: { dataDir } });
    try {
      const again = await second.client(session);
      const state = await ok(again, 'session:state', {});
      const answers = state.battle!.turns[0].answers;
      expect([answers.left.status, answers.right.status]).toEqual(['interrupted', 'interrupted']);
      expect(answers.left.error).toMatch(/restarted/);
      await expectRefused(again, battle.id);
      expect(await second.arena.store.listVotes()).toEqual([]);
      // Regenerate is the way out: fresh answers can be voted on as usual.
      const rec2 = recordFrames(again);
      await ok(again, 'battle:regenerate', { battleId: battle.id });
      await ok(again, 'battle:stop', { battleId: battle.id });
      await rec2.settled(battle.id);
      expect((await ok(again, 'battle:vote', { battleId: battle.id, choice: 'right' })).counted).toBe(true);
    } finally {
      await second.close();
    }
  });
});
