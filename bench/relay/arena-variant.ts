/**
 * Diagnostics only (`npm run bench -- --variants`): Arena from source (createArena, same config
 * and env as `dist/arena.mjs serve`), optionally with another coalescing policy (the event log's
 * `BattleEventLog.coalesce` option, set before the server starts),
 * so a change on the token path can be measured against what it replaced in the same run.
 * Nothing here is used by the production server.
 *
 *   BENCH_VARIANT=source      unchanged: deltas flush at the end of the event-loop turn
 *   BENCH_VARIANT=window-5ms  the policy before 2026-11-30: deltas wait up to 5 ms (a timer per battle)
 *   BENCH_VARIANT=no-coalesce every delta is its own frame
 */
import { BattleEventLog, type CoalescePolicy } from '../../server/arena/event-log.js';
import { createArena } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { createLogger } from '../../server/infra/log.js';

/** BENCH_VARIANT → the event log's coalescing policy (BattleEventLog.coalesce). */
const POLICIES: Record<string, CoalescePolicy> = { source: 'turn', 'window-5ms': { windowMs: 5 }, 'no-coalesce': 'none' };

const variant = process.env.BENCH_VARIANT ?? 'source';
const policy = POLICIES[variant];
if (!policy) throw new Error(`unknown BENCH_VARIANT ${variant}`);
BattleEventLog.coalesce = policy;

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
