import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../infra/log.js';
import { checkpointInBackground } from './sqlite-checkpoint.js';
import { migrate } from './sqlite-migrations.js';
import { emptyTally } from './vote-record.js';
import type { BattleRecord, BoardSnapshot, SessionRecord, Store, VoteChoice, VoteRecord, VoteResult } from './types.js';
import { voteRecordFor, withoutVote } from './vote-record.js';

export interface SqliteStoreOptions {
  /** Directory holding arena.db; created when missing. */
  dir: string;
  logger?: Logger;
  /** How often a worker thread checkpoints the WAL (sqlite-checkpoint.ts); tests change it. */
  checkpointIntervalMs?: number;
}

/** Rows per query when streaming voted battles, so the connection is free between pages. */
const PAGE_SIZE = 200;
/** SQLite's own default page cache (2 MB). */
const PAGE_CACHE_KIB = 2_000;
/** How long a writer waits for another handle's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

interface VoteRow {
  seq: number;
  battle_id: string;
  model_left: string;
  model_right: string;
  choice: VoteChoice;
  excluded: number;
  judge: string;
  tstamp: number;
  meta: string | null;
}

export function openSqliteStore({ dir, logger = silentLogger, checkpointIntervalMs }: SqliteStoreOptions): Store {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'arena.db');
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash without an fsync per commit: better-sqlite3 runs on
  // the event loop, so battle saves must not wait for the disk. Votes switch to FULL (below).
  db.pragma('synchronous = NORMAL');
  // better-sqlite3 builds with a 16 MB page cache; the store mostly writes (live battles are in
  // memory) and the kernel caches the file anyway, so 16 MB of process memory would only fill
  // slowly as the file grows and look like a leak for the first quarter hour of a busy server.
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  migrate(db);
  const stopCheckpoints = checkpointInBackground(db, file, logger, checkpointIntervalMs);
  logger.info({ file }, 'sqlite store opened');

  const sql = {
    ping: db.prepare('SELECT 1'),
    getSession: db.prepare<[string], { json: string }>('SELECT json FROM sessions WHERE hash = ?'),
    putSession: db.prepare(
      'INSERT INTO sessions (hash, json) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET json = excluded.json',
    ),
    getBattle: db.prepare<[string], { json: string; voted: number }>('SELECT json, voted FROM battles WHERE id = ?'),
    putBattle: db.prepare(
      'INSERT INTO battles (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json',
    ),
    markVoted: db.prepare('UPDATE battles SET json = ?, voted = 1 WHERE id = ?'),
    voteOf: db.prepare<[string], { choice: VoteChoice; tstamp: number }>(
      'SELECT choice, tstamp FROM votes WHERE battle_id = ?',
    ),
    // DO NOTHING on a known battle id: imports and racing voters both rely on it to dedupe.
    insertVote: db.prepare(
      `INSERT INTO votes (battle_id, model_left, model_right, choice, excluded, judge, tstamp, meta)
       VALUES (@battleId, @modelLeft, @modelRight, @choice, @excluded, @judge, @tstamp, @meta)
       ON CONFLICT (battle_id) DO NOTHING`,
    ),
    listVotes: db.prepare<[], VoteRow>('SELECT * FROM votes ORDER BY seq'),
    votesAfter: db.prepare<[number, number], VoteRow>('SELECT * FROM votes WHERE seq > ? ORDER BY seq LIMIT ?'),
    insertCrowdVote: db.prepare('INSERT INTO crowd_votes (battle_id, voter, choice) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    crowdTally: db.prepare<[string], { choice: VoteChoice; n: number }>(
      'SELECT choice, COUNT(*) AS n FROM crowd_votes WHERE battle_id = ? GROUP BY choice',
    ),
    battlesAfter: db.prepare<[number, number], { rowid: number; json: string }>('SELECT rowid, json FROM battles WHERE rowid > ? ORDER BY rowid LIMIT ?'),
    putSnapshot: db.prepare(
      `INSERT INTO board_snapshots (category, exclude_ties, day, json) VALUES (?, ?, ?, ?)
       ON CONFLICT (category, exclude_ties, day) DO UPDATE SET json = excluded.json`,
    ),
    listSnapshots: db.prepare<[string, number], { json: string }>(
      'SELECT json FROM board_snapshots WHERE category = ? AND exclude_ties = ? ORDER BY day',
    ),
    votesWithBattlesAfter: db.prepare<[number, number], VoteRow & { battle_json: string | null }>(
      `SELECT v.*, b.json AS battle_json FROM votes v LEFT JOIN battles b ON b.id = v.battle_id
       WHERE v.seq > ? ORDER BY v.seq LIMIT ?`,
    ),
    votedBattlesAfter: db.prepare<[number, number], { seq: number; json: string }>(
      `SELECT v.seq, b.json FROM votes v JOIN battles b ON b.id = v.battle_id
       WHERE v.seq > ? ORDER BY v.seq LIMIT ?`,
    ),
  };

  const insertVote = (vote: VoteRecord): boolean =>
    sql.insertVote.run({
      battleId: vote.battleId,
      modelLeft: vote.modelLeft,
      modelRight: vote.modelRight,
      choice: vote.choice,
      excluded: vote.excluded ? 1 : 0,
      judge: vote.judge,
      tstamp: vote.tstamp,
      meta: metaOf(vote),
    }).changes === 1;

  // The stored vote (recorded or imported) always wins over whatever the caller's copy says.
  const putBattle = db.transaction((battle: BattleRecord) => {
    const stored = sql.voteOf.get(battle.id);
    const vote = stored ? { choice: stored.choice, at: stored.tstamp } : undefined;
    sql.putBattle.run(battle.id, JSON.stringify({ ...withoutVote(battle), ...(vote && { vote }) }));
  });

  const recordVote = db.transaction((battle: BattleRecord, choice: VoteChoice, at: number): VoteResult => {
    const stored = sql.getBattle.get(battle.id);
    if (!stored) return 'not_found';
    if (stored.voted) return 'already_voted';
    // A vote imported for this id counts as already cast.
    if (!insertVote(voteRecordFor(battle, choice, at))) return 'already_voted';
    sql.markVoted.run(JSON.stringify({ ...battle, vote: { choice, at } }), battle.id);
    return 'ok';
  });

  const importVotes = db.transaction((votes: VoteRecord[]) => votes.filter(insertVote).length);

  return {
    kind: 'sqlite',

    async ping() {
      try {
        sql.ping.get();
        return true;
      } catch {
        return false;
      }
    },

    async close() {
      await stopCheckpoints();
      if (db.open) db.close();
    },

    async getSession(hash) {
      const row = sql.getSession.get(hash);
      return row ? (JSON.parse(row.json) as SessionRecord) : null;
    },

    async putSession(session) {
      sql.putSession.run(session.hash, JSON.stringify(session));
    },

    async getBattle(id) {
      const row = sql.getBattle.get(id);
      return row ? (JSON.parse(row.json) as BattleRecord) : null;
    },

    async putBattle(battle) {
      // IMMEDIATE takes the write lock up front, so a concurrent handle cannot vote in between.
      putBattle.immediate(battle);
    },

    async recordVote(battle, choice, at) {
      // FULL fsyncs this commit: a vote is acknowledged only once it survives power loss.
      db.pragma('synchronous = FULL');
      try {
        return recordVote.immediate(battle, choice, at);
      } finally {
        db.pragma('synchronous = NORMAL');
      }
    },

    async listVotes() {
      return sql.listVotes.all().map(voteFromRow);
    },

    async votesAfter(cursor, limit) {
      const rows = sql.votesAfter.all(cursor === undefined ? 0 : Number(cursor), limit);
      return { votes: rows.map(voteFromRow), cursor: rows.length ? String(rows[rows.length - 1].seq) : cursor };
    },

    async *listVotedBattles() {
      for (let after = 0; ; ) {
        const page = sql.votedBattlesAfter.all(after, PAGE_SIZE);
        for (const row of page) yield JSON.parse(row.json) as BattleRecord;
        if (page.length < PAGE_SIZE) return;
        after = page[page.length - 1].seq;
      }
    },

    async *listBattles() {
      for (let after = 0; ; ) {
        const page = sql.battlesAfter.all(after, PAGE_SIZE);
        for (const row of page) yield JSON.parse(row.json) as BattleRecord;
        if (page.length < PAGE_SIZE) return;
        after = page[page.length - 1].rowid;
      }
    },

    async *listVotesWithBattles() {
      for (let after = 0; ; ) {
        const page = sql.votesWithBattlesAfter.all(after, PAGE_SIZE);
        for (const row of page) {
          yield { vote: voteFromRow(row), battle: row.battle_json === null ? null : (JSON.parse(row.battle_json) as BattleRecord) };
        }
        if (page.length < PAGE_SIZE) return;
        after = page[page.length - 1].seq;
      }
    },

    async importVotes(votes) {
      return importVotes.immediate(votes);
    },

    async putSnapshot(snapshot) {
      sql.putSnapshot.run(snapshot.category, snapshot.excludeTies ? 1 : 0, snapshot.day, JSON.stringify(snapshot));
    },

    async listSnapshots(category, excludeTies) {
      return sql.listSnapshots.all(category, excludeTies ? 1 : 0).map((row) => JSON.parse(row.json) as BoardSnapshot);
    },

    async recordCrowdVote(battleId, voter, choice) {
      return sql.insertCrowdVote.run(battleId, voter, choice).changes === 1 ? 'ok' : 'already_voted';
    },

    async crowdTally(battleId) {
      const tally = emptyTally();
      for (const row of sql.crowdTally.all(battleId)) tally[row.choice] = row.n;
      return tally;
    },
  };
}

function voteFromRow(row: VoteRow): VoteRecord {
  return {
    battleId: row.battle_id,
    modelLeft: row.model_left,
    modelRight: row.model_right,
    choice: row.choice,
    excluded: row.excluded === 1,
    judge: row.judge,
    tstamp: row.tstamp,
    ...(row.meta !== null && (JSON.parse(row.meta) as Pick<VoteRecord, 'categories' | 'style' | 'promptHash'>)),
  };
}

function metaOf(vote: VoteRecord): string | null {
  const { categories, style, promptHash } = vote;
  if (!categories && !style && !promptHash) return null;
  return JSON.stringify({ ...(categories && { categories }), ...(style && { style }), ...(promptHash && { promptHash }) });
}
