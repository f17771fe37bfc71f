import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { newSessionToken } from '../../server/arena/ids.js';
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
    // The board is refreshed (debounced) after the votes and pushed to subscribers.
    await waitFor(() => boards.at(-1)?.countedVotes === choices.length, 5_000, 'the board with every vote');
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
  });
});
