import type { Database } from 'better-sqlite3';

/**
 * Schema history, applied in order; `PRAGMA user_version` records how many have run.
 * Append only: never edit a migration that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (hash TEXT PRIMARY KEY, json TEXT NOT NULL);
   CREATE TABLE battles (id TEXT PRIMARY KEY, json TEXT NOT NULL, voted INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE votes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     battle_id TEXT NOT NULL UNIQUE,
     model_left TEXT NOT NULL,
     model_right TEXT NOT NULL,
     choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie', 'bothbad')),
     excluded INTEGER NOT NULL,
     judge TEXT NOT NULL,
     tstamp INTEGER NOT NULL
   );`,
  `CREATE TABLE crowd_votes (
     battle_id TEXT NOT NULL,
     voter TEXT NOT NULL,
     choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie', 'bothbad')),
     PRIMARY KEY (battle_id, voter)
   );`,
  // Categories, style features and prompt hash of a vote, JSON {categories?, style?, promptHash?}; NULL when it has neither.
  `ALTER TABLE votes ADD COLUMN meta TEXT;`,
  `CREATE TABLE board_snapshots (
     category TEXT NOT NULL,
     exclude_ties INTEGER NOT NULL,
     day TEXT NOT NULL,
     json TEXT NOT NULL,
     PRIMARY KEY (category, exclude_ties, day)
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`arena.db has schema version ${current}, newer than this build (${SCHEMA_VERSION}); refusing to open it`);
  }
  // IMMEDIATE: two processes opening a fresh file at once must not both run the same migration.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
