import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { parseBattleFile } from '../../server/arena/export.js';
import { newSessionToken } from '../../src/lib/server/session.js';
import { computeLeaderboard } from '../../server/rating/leaderboard.js';
import type { Leaderboard } from '../../src/lib/shared/protocol.js';
import { ok, recordFrames, waitFor, type ArenaClient } from '../helpers/arena.js';
import { runCli, startArenaProcess } from '../helpers/process.js';

describe('export and import through the CLI', () => {
  it('exports FastChat battles and DPO pairs, and an import into an empty arena rebuilds the same ratings', async () => {
    const source = mkdtempSync(join(tmpdir(), 'arena-export-'));
    const arena = await startArenaProcess({ DATA_DIR: source });
    const client: ArenaClient = connect(arena.url, { transports: ['websocket'], auth: { session: newSessionToken() }, reconnection: false });
    const rec = recordFrames(client);
    const boards: Leaderboard[] = [];
    client.on('leaderboard:update', (pushed) => boards.push(pushed));
    await ok(client, 'leaderboard:subscribe', {});
    const choices = ['left', 'right', 'left', 'tie'] as const;
    for (const choice of choices) {
      const { battle } = await ok(client, 'battle:start', { prompt: `Question for ${choice}?`, route: 'arena' });
      await rec.settled(battle.id);
      await ok(client, 'battle:vote', { battleId: battle.id, choice });
    }
    // The board is refreshed (debounced) after the votes and pushed to subscribers. Refreshes are
    // spaced by ten times the last compute (bootstrap CIs): seconds on a machine busy with the suite.
    await waitFor(() => boards.at(-1)?.countedVotes === choices.length, 20_000, 'the board with every vote');
    const board = boards.at(-1)!;
    client.close();
    await arena.stop();

    const out = join(source, 'battles.jsonl');
    expect((await runCli(['export', 'battles', '--out', out], { DATA_DIR: source })).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.winner)).toEqual(['model_a', 'model_b', 'model_a', 'tie']);
    const pairs = await runCli(['export', 'preferences'], { DATA_DIR: source });
    expect(pairs.stdout.trim().split('\n')).toHaveLength(3); // ties give no preference pair

    const target = mkdtempSync(join(tmpdir(), 'arena-import-'));
    const imported = await runCli(['import', out], { DATA_DIR: target });
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain('imported 4 votes');
    const again = await runCli(['import', out], { DATA_DIR: target });
    expect(again.stderr).toContain('imported 0 votes (4 already present');

    const rebuilt = await startArenaProcess({ DATA_DIR: target });
    try {
      const viewer: ArenaClient = connect(rebuilt.url, { transports: ['websocket'], auth: { session: newSessionToken() }, reconnection: false });
      const { board: after } = await ok(viewer, 'leaderboard:subscribe', {});
      viewer.close();
      expect(after.countedVotes).toBe(board.countedVotes);
      expect(after.rows.map((r) => [r.model, r.rating.toFixed(6)])).toEqual(board.rows.map((r) => [r.model, r.rating.toFixed(6)]));
    } finally {
      await rebuilt.stop();
    }

    // A minimal FastChat-style file without question_id, imported on top: the ids derive from the content.
    const models = board.rows.map((r) => r.model);
    const minimal = join(target, 'minimal.jsonl');
    const minimalLines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ model_a: models[i % models.length], model_b: models[(i + 1) % models.length], winner: i % 3 ? 'model_a' : 'model_b', judge: `user-${i}`, tstamp: 1_700_000_000 + i }),
    );
    writeFileSync(minimal, minimalLines.join('\n') + '\n');
    expect((await runCli(['import', minimal], { DATA_DIR: target })).stderr).toContain('imported 20 votes (0 already present, 0 bad lines)');

    // The mixed data dir exports every vote its board counts, and the export re-rates to that board.
    const mixedOut = join(target, 'mixed.jsonl');
    expect((await runCli(['export', 'battles', '--out', mixedOut], { DATA_DIR: target })).code).toBe(0);
    const exported = parseBattleFile(readFileSync(mixedOut, 'utf8'));
    expect(exported.errors).toEqual([]);
    expect(exported.votes).toHaveLength(24);
    const mixed = await startArenaProcess({ DATA_DIR: target });
    try {
      const viewer: ArenaClient = connect(mixed.url, { transports: ['websocket'], auth: { session: newSessionToken() }, reconnection: false });
      const { board: mixedBoard } = await ok(viewer, 'leaderboard:subscribe', {});
      viewer.close();
      expect(mixedBoard.totalVotes).toBe(24);
      const rerated = computeLeaderboard(exported.votes);
      expect(rerated.countedVotes).toBe(mixedBoard.countedVotes);
      expect(rerated.rows.map((r) => [r.model, r.rating.toFixed(6)])).toEqual(mixedBoard.rows.map((r) => [r.model, r.rating.toFixed(6)]));
    } finally {
      await mixed.stop();
    }
    // Six CLI runs and three server starts on a shared 2-core machine: more than the default minute.
  }, 150_000);
});
