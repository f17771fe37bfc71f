import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { BattleRecord, Store } from '../../server/store/types.js';

const battle = (i: number): BattleRecord => ({
  id: `battle-${i}`,
  sessionHash: 'h',
  createdAt: i,
  mode: 'arena',
  systemPrompt: '',
  models: { left: 'a', right: 'b' },
  turns: [{ prompt: 'p', startedAt: i, answers: { left: { text: 'x'.repeat(3_000), reasoning: '', status: 'done' }, right: { text: 'y'.repeat(3_000), reasoning: '', status: 'done' } } }],
  leak: { left: false, right: false },
  watchToken: 't',
  lastSeq: 0,
});

/** Enough committed pages (≈ 2 per battle) to cross SQLite's automatic checkpoint (1,000 pages) twice. */
const BATTLES = 1_200;

describe('SQLite store: WAL checkpoints run off the event loop', () => {
  let dir: string;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (checkpointIntervalMs: number) => {
    dir = mkdtempSync(join(tmpdir(), 'arena-ckpt-'));
    store = openSqliteStore({ dir, checkpointIntervalMs });
    return { store, dbSize: () => statSync(join(dir, 'arena.db')).size };
  };

  it('never checkpoints inside a commit: the database file stays as it was while the WAL takes every write', async () => {
    const { store, dbSize } = open(3_600_000);
    const before = dbSize();
    for (let i = 0; i < BATTLES; i++) await store.putBattle(battle(i));
    // With automatic checkpoints SQLite would have copied the pages into arena.db inside a commit.
    expect(dbSize()).toBe(before);
    expect((await store.getBattle('battle-7'))?.turns[0].answers.left.text).toHaveLength(3_000);
  });

  it('copies the committed pages into the database file from its worker thread', async () => {
    const { store, dbSize } = open(50);
    const before = dbSize();
    for (let i = 0; i < BATTLES; i++) await store.putBattle(battle(i));
    const until = Date.now() + 5_000;
    while (dbSize() < before + BATTLES * 6_000 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(dbSize()).toBeGreaterThanOrEqual(before + BATTLES * 6_000);
  });

  it('closes promptly, worker included, and the data survives a reopen', async () => {
    const first = open(50);
    for (let i = 0; i < 10; i++) await first.store.putBattle(battle(i));
    const started = Date.now();
    await first.store.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    store = openSqliteStore({ dir });
    expect((await store.getBattle('battle-9'))?.id).toBe('battle-9');
  });
});
