/**
 * Diagnostics only (`npm run bench -- --variants`): Arena from source (createArena, same config
 * and env as `dist/arena.mjs serve`), optionally with a change applied at run time, so a proposed
 * fix on the token path can be measured before anyone edits server/. Nothing here is used by the
 * production server.
 *
 *   BENCH_VARIANT=source        unchanged (the reference for the others: source may differ from dist/)
 *   BENCH_VARIANT=no-coalesce   coalesceMs 0: every delta is its own frame
 *   BENCH_VARIANT=seq-in-place  BattleEventLog.flush() gives each pending event its seq in place
 *                               instead of copying it with `{ ...e, seq }` (nothing else changes)
 *   BENCH_VARIANT=immediate     BattleEventLog: deltas flush on setImmediate (everything that arrived in
 *                               the same event-loop turn merges; no fixed delay), seq in place
 *   BENCH_VARIANT=leading-edge  BattleEventLog: a delta after a quiet window goes out at once (deltas
 *                               arriving within coalesceMs of the last frame still merge), and
 *                               flush() gives events their seq in place instead of `{ ...e, seq }`
 */
import { BattleEventLog } from '../../server/arena/event-log.js';
import { createArena } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { createLogger } from '../../server/log.js';
import type { BattleEvent, SeqEvent } from '../../src/lib/shared/protocol.js';

const variant = process.env.BENCH_VARIANT ?? 'source';

interface LogInternals {
  pending: BattleEvent[];
  oldestPendingAt: number;
  timer: NodeJS.Timeout | null;
  log: SeqEvent[];
  seq: number;
  coalesceMs: number;
  onFlush: (events: SeqEvent[], oldestPendingAt: number) => void;
  mergeDelta(event: BattleEvent): boolean;
  flush(): void;
  lastFlushAt?: number;
}

const proto = BattleEventLog.prototype as unknown as LogInternals;
if (variant === 'seq-in-place' || variant === 'leading-edge' || variant === 'immediate') {
  proto.flush = function (this: LogInternals) {
    if (this.timer) {
      clearTimeout(this.timer);
      clearImmediate(this.timer as unknown as NodeJS.Immediate);
    }
    this.timer = null;
    if (this.pending.length === 0) return;
    const events = this.pending as SeqEvent[];
    for (const e of events) e.seq = ++this.seq; // one hidden class per event kind, not one per event
    this.pending = [];
    this.lastFlushAt = performance.now();
    for (const e of events) this.log.push(e);
    this.onFlush(events, this.oldestPendingAt);
  };
}
if (variant === 'leading-edge') {
  (proto as unknown as { push(event: BattleEvent): void }).push = function (this: LogInternals, event: BattleEvent) {
    if (event.t === 'delta' && this.mergeDelta(event)) return;
    const now = performance.now();
    if (this.pending.length === 0) this.oldestPendingAt = now;
    this.pending.push(event);
    if (event.t !== 'delta' || this.coalesceMs <= 0) return this.flush();
    const quietFor = now - (this.lastFlushAt ?? -Infinity);
    if (!this.timer && quietFor >= this.coalesceMs) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.coalesceMs - quietFor));
  };
}
if (variant === 'immediate') {
  (proto as unknown as { push(event: BattleEvent): void }).push = function (this: LogInternals, event: BattleEvent) {
    if (event.t === 'delta' && this.mergeDelta(event)) return;
    if (this.pending.length === 0) this.oldestPendingAt = performance.now();
    this.pending.push(event);
    if (event.t !== 'delta') return this.flush();
    this.timer ??= setImmediate(() => this.flush()) as unknown as NodeJS.Timeout;
  };
}
if (!['source', 'no-coalesce', 'seq-in-place', 'leading-edge', 'immediate'].includes(variant)) throw new Error(`unknown BENCH_VARIANT ${variant}`);

const { config } = loadConfig();
const logger = createLogger(config.logLevel);
const arena = await createArena(config, { logger, ...(variant === 'no-coalesce' ? { coalesceMs: 0 } : {}) });
await arena.listen();
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void arena.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
