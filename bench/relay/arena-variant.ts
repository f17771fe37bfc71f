/**
 * Diagnostics only (`npm run bench -- --variants`): Arena from source (createArena, same config
 * and env as `dist/arena.mjs serve`), optionally with a coalescing policy swapped in at run time,
 * so a change on the token path can be measured against what it replaced in the same run.
 * Nothing here is used by the production server.
 *
 *   BENCH_VARIANT=source      unchanged: deltas flush at the end of the event-loop turn
 *   BENCH_VARIANT=window-5ms  the policy before 2026-11-30: deltas wait up to 5 ms (a timer per battle)
 *   BENCH_VARIANT=no-coalesce every delta is its own frame
 */
import { BattleEventLog } from '../../server/arena/event-log.js';
import { createArena } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { createLogger } from '../../server/log.js';
import type { BattleEvent } from '../../src/lib/shared/protocol.js';

const VARIANTS = ['source', 'window-5ms', 'no-coalesce'] as const;

const variant = process.env.BENCH_VARIANT ?? 'source';
if (!(VARIANTS as readonly string[]).includes(variant)) throw new Error(`unknown BENCH_VARIANT ${variant}`);

interface LogInternals {
  pendingChars: number;
  windowTimer?: NodeJS.Timeout | null;
  append(event: BattleEvent, now: boolean): void;
  mergeDelta(event: BattleEvent): boolean;
  flush(): void;
  push(event: BattleEvent): void;
}

const proto = BattleEventLog.prototype as unknown as LogInternals;
if (variant === 'window-5ms') {
  proto.push = function (this: LogInternals, event: BattleEvent) {
    if (event.t !== 'delta') return this.append(event, true);
    if (!this.mergeDelta(event)) this.append(event, false);
    this.windowTimer ??= setTimeout(() => ((this.windowTimer = null), this.flush()), 5);
  };
}
if (variant === 'no-coalesce') {
  proto.push = function (this: LogInternals, event: BattleEvent) {
    this.append(event, true);
  };
}

const { config } = loadConfig();
const logger = createLogger(config.logLevel);
const arena = await createArena(config, { logger });
await arena.listen();
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void arena.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
