import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Leaderboard } from '../../src/lib/shared/protocol.js';
import { BoardSet } from '../../server/rating/board-set.js';
import { screenVotes } from '../../server/rating/hygiene.js';
import { startSimulator } from '../../server/sim/index.js';
import { call, eventually, ok, recordFrames, startTestArena, TEST_MODELS, waitFor, type ArenaClient, type TestArena } from '../helpers/arena.js';

async function voteOnce(client: ArenaClient, rec: ReturnType<typeof recordFrames>, choice: 'left' | 'right' | 'tie' | 'bothbad') {
  const { battle } = await ok(client, 'battle:start', { prompt: `Question ${Math.random()}` });
  await rec.settled(battle.id);
  return ok(client, 'battle:vote', { battleId: battle.id, choice });
}

describe('live leaderboard', () => {
  let t: TestArena;
  beforeAll(async () => {
    t = await startTestArena({ config: { limits: { battlesPerMinute: 100 } } });
  });
  afterAll(() => t.close());

  it('pushes the recomputed board to every subscriber after votes, ties toggle apart', async () => {
    const viewer = await t.client();
    const decisiveViewer = await t.client();
    const updates: Leaderboard[] = [];
    const decisiveUpdates: Leaderboard[] = [];
    viewer.on('leaderboard:update', (b) => updates.push(b));
    decisiveViewer.on('leaderboard:update', (b) => decisiveUpdates.push(b));
    const { board } = await ok(viewer, 'leaderboard:subscribe', {});
    expect(board.countedVotes).toBe(0);
    await ok(decisiveViewer, 'leaderboard:subscribe', { excludeTies: true });

    const voter = await t.client();
    const rec = recordFrames(voter);
    const reveals = [await voteOnce(voter, rec, 'left'), await voteOnce(voter, rec, 'tie'), await voteOnce(voter, rec, 'right')];
    await waitFor(() => updates.at(-1)?.countedVotes === 3 && decisiveUpdates.at(-1)?.countedVotes === 2, 5_000, 'board pushes');
    const last = updates.at(-1)!;
    expect(last.countedVotes).toBe(3);
    expect(last.excludeTies).toBe(false);
    expect(decisiveUpdates.at(-1)!.countedVotes).toBe(2);
    expect(decisiveUpdates.every((b) => b.excludeTies)).toBe(true);
    const winner = reveals[0].reveal.left.model;
    const row = last.rows.find((r) => r.model === winner)!;
    expect(row.wins).toBeGreaterThanOrEqual(1);
    // Three votes can resample to the same fit every round: the interval collapses, up to rounding.
    expect(row.ciLow).toBeLessThanOrEqual(row.rating + 1e-6);
    expect(row.ciHigh).toBeGreaterThanOrEqual(row.rating - 1e-6);
    // Far fewer pushes than votes x viewers would mean: debounced.
    expect(updates.length).toBeLessThanOrEqual(3);
  });

  it('folds in only new votes yet shows the board a full recompute over every stored vote gives', async () => {
    const viewer = await t.client();
    const updates: Leaderboard[] = [];
    viewer.on('leaderboard:update', (b) => updates.push(b));
    await ok(viewer, 'leaderboard:subscribe', {});
    // Votes another instance (or an import) stored: more than one page of the catch-up read.
    const models = TEST_MODELS.map((m) => m.name);
    const choices = ['left', 'right', 'tie', 'bothbad'] as const;
    await t.arena.store.importVotes(
      Array.from({ length: 12_345 }, (_, i) => ({
        battleId: `imported-${i}`,
        modelLeft: models[i % models.length],
        modelRight: models[(i * 7 + 1) % models.length],
        choice: choices[(i * 13) % 4],
        excluded: i % 97 === 0,
        judge: 'import',
        tstamp: i,
      })),
    );
    const voter = await t.client();
    await voteOnce(voter, recordFrames(voter), 'left');
    const stored = await t.arena.store.listVotes();
    await waitFor(() => updates.at(-1)?.totalVotes === stored.length, 5_000, 'board with every vote');
    // The same hygiene rules, applied to every stored vote at once (one judge imported them all).
    const full = new BoardSet();
    full.add(screenVotes(stored));
    expect({ ...updates.at(-1)!, computedAt: 0 }).toEqual({ ...full.board('overall', false), computedAt: 0 });
  });

  it('keeps a live board per category, with its vote count, intervals and style-controlled ratings', async () => {
    const viewer = await t.client();
    const coding: Leaderboard[] = [];
    viewer.on('leaderboard:update', (b) => coding.push(b));
    const { board: before } = await ok(viewer, 'leaderboard:subscribe', { category: 'coding' });
    expect(before.category).toBe('coding');
    const codingBefore = before.countedVotes;

    const voter = await t.client();
    const rec = recordFrames(voter);
    const vote = async (prompt: string, choice: 'left' | 'right') => {
      const { battle } = await ok(voter, 'battle:start', { prompt, route: 'arena' });
      await rec.settled(battle.id);
      return ok(voter, 'battle:vote', { battleId: battle.id, choice });
    };
    await vote('Fix this Python function so that it returns the sum: def add(a, b): return a - b', 'left');
    await vote('Write a short poem about the sea at night, please.', 'right');
    await vote('Why does my JavaScript code throw a TypeError when I call map on undefined?', 'right');

    await waitFor(() => coding.at(-1)?.countedVotes === codingBefore + 2, 5_000, 'the coding board with both coding votes');
    const board = coding.at(-1)!;
    expect(board.category).toBe('coding');
    expect(coding.every((b) => b.category === 'coding')).toBe(true);
    const listed = new Map(board.categories.map((c) => [c.id, c.countedVotes]));
    expect(listed.get('coding')).toBe(codingBefore + 2);
    expect(listed.get('creative_writing')).toBeGreaterThanOrEqual(1);
    expect(listed.get('lang:eng')).toBeGreaterThanOrEqual(3);
    expect(board.categories[0].id).toBe('overall');
    for (const row of board.rows) {
      // A pair with one vote each way resamples to the same fit: the interval collapses (up to rounding).
      expect(row.ciLow).toBeLessThanOrEqual(row.rating + 1e-6);
      expect(row.ciHigh).toBeGreaterThanOrEqual(row.rating - 1e-6);
      expect(row.style!.ciLow).toBeLessThan(row.style!.rating);
    }
    expect(board.style?.votes).toBe(2);
    const stored = (await t.arena.store.listVotes()).filter((v) => v.categories?.includes('coding'));
    expect(stored).toHaveLength(codingBefore + 2);
    expect(stored.every((v) => v.style && v.style.sum_assistant_a_tokens > 0)).toBe(true);
  });

  it('refuses a malformed category with a typed error', async () => {
    const viewer = await t.client();
    const res = await call(viewer, 'leaderboard:subscribe', { category: 'coding; drop' });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('not a category') });
  });
});

describe('board history', () => {
  it('stores a daily snapshot of every board, served at /api/leaderboard/history', async () => {
    const t = await startTestArena({ config: { limits: { battlesPerMinute: 100 } }, arena: { snapshotEveryMs: 0 } });
    try {
      const viewer = await t.client();
      const updates: Leaderboard[] = [];
      viewer.on('leaderboard:update', (b) => updates.push(b));
      await ok(viewer, 'leaderboard:subscribe', {});
      const voter = await t.client();
      const rec = recordFrames(voter);
      for (const choice of ['left', 'right'] as const) {
        const { battle } = await ok(voter, 'battle:start', { prompt: `Write a Python function that reverses a list (${choice})`, route: 'arena' });
        await rec.settled(battle.id);
        await ok(voter, 'battle:vote', { battleId: battle.id, choice });
      }
      await waitFor(() => updates.at(-1)?.countedVotes === 2, 5_000, 'the board with both votes');
      const board = updates.at(-1)!;
      const today = new Date().toISOString().slice(0, 10);
      const history = await eventually(async () => {
        const body = await (await fetch(`${t.url}/api/leaderboard/history?category=overall`)).json();
        if (body.snapshots.at(-1)?.countedVotes !== 2) throw new Error('snapshot not written yet');
        return body;
      });
      expect(history.snapshots).toHaveLength(1);
      expect(history.snapshots[0]).toMatchObject({ day: today, category: 'overall', excludeTies: false, countedVotes: 2 });
      expect(history.snapshots[0].rows.map((r: { model: string; rating: number }) => [r.model, r.rating])).toEqual(board.rows.map((r) => [r.model, r.rating]));
      const coding = await (await fetch(`${t.url}/api/leaderboard/history?category=coding&excludeTies=true`)).json();
      expect(coding.snapshots[0]).toMatchObject({ day: today, category: 'coding', excludeTies: true, countedVotes: 2 });
      expect((await fetch(`${t.url}/api/leaderboard/history?category=..%2Fetc`)).status).toBe(400);
    } finally {
      await t.close();
    }
  });
});

describe('pairing', () => {
  it('never samples a model whose backend is down', async () => {
    const extra = await startSimulator({ flavor: 'ollama', models: [{ name: 'mdl-ember:5b', tokensPerSecond: 500, family: 'ember' }], preloaded: true });
    const t = await startTestArena({
      config: { limits: { battlesPerMinute: 100 } },
      extraBackends: [{ id: 'extra', kind: 'ollama', url: extra.url }],
    });
    try {
      expect(t.arena.registry.availableModels().map((m) => m.id)).toContain('mdl-ember:5b');
      extra.setFault({ kind: 'down' });
      await t.arena.registry.refresh();
      expect(t.arena.registry.availableModels().map((m) => m.id)).not.toContain('mdl-ember:5b');
      const client = await t.client();
      const sampled = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const { battle } = await ok(client, 'battle:start', { prompt: `p${i}` });
        await ok(client, 'battle:stop', { battleId: battle.id });
        const stored = await t.arena.store.getBattle(battle.id);
        sampled.add(stored!.models.left).add(stored!.models.right);
      }
      expect(sampled.has('mdl-ember:5b')).toBe(false);
      expect(sampled.size).toBe(TEST_MODELS.length);
    } finally {
      await t.close();
      await extra.close();
    }
  });
});
