import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import type { Logger } from '../infra/log.js';
import { withDeadline } from '../infra/deadline.js';

/** How often the background connection copies the WAL's committed pages into the database file. */
const DEFAULT_INTERVAL_MS = 1_000;
/** Checkpoints failing this many times in a row end the worker (and background checkpoints). */
const MAX_FAILURES = 5;
/** SQLite's default: what the server's own connection falls back to if the worker is gone. */
const AUTO_CHECKPOINT_PAGES = 1_000;

/** The worker: its own connection to the same file. PASSIVE never waits for, nor blocks, the server's writes. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
let failures = 0;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (err) {
    parentPort.postMessage(String((err && err.message) || err));
    // Failing for good: exit, so the server's connection checkpoints on commit again.
    if (++failures >= workerData.maxFailures) {
      clearInterval(timer);
      db.close();
      process.exit(1);
    }
  }
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Moves WAL checkpoints off the event loop. better-sqlite3 is synchronous, and SQLite runs an
 * automatic checkpoint (copy the WAL back into the file, then fsync) inside whichever commit
 * crosses 1,000 pages: every socket would wait for the disk (13 ms on this project's machine,
 * every few seconds under load). A worker thread checkpoints every second instead; if it dies or keeps failing,
 * the server's connection goes back to automatic checkpoints, so the WAL never grows unbounded.
 * Returns a stop function to call before closing `db`.
 */
export function checkpointInBackground(db: Database, file: string, logger: Logger, intervalMs = DEFAULT_INTERVAL_MS): () => Promise<void> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, intervalMs, maxFailures: MAX_FAILURES } });
  worker.unref();
  db.pragma('wal_autocheckpoint = 0');
  let stopping = false;
  const fallBack = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.warn({ reason }, 'background checkpoints stopped; SQLite checkpoints on commit again');
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  };
  worker.on('message', (message: string) => logger.warn({ err: message }, 'background checkpoint failed'));
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => fallBack(`worker exited (${code})`));
  return async () => {
    if (stopping) return;
    stopping = true;
    // Not events.once: it rejects on an 'error' while stopping, and the database must close all the same.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Referenced while it stops: a CLI whose last task is closing the store must not exit meanwhile.
    worker.ref();
    worker.postMessage('stop');
    // A worker stuck in a long checkpoint is not waited for: the database closes all the same.
    if ((await withDeadline(exited.then(() => 'exited'), 2_000, 'late')) === 'late') await worker.terminate();
  };
}
