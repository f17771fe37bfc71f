/**
 * Diagnostics only (`npm run bench -- --variants`): Arena from source (createArena, same config
 * and env as `dist/arena.mjs serve`), with the coalescing policy of BENCH_VARIANT passed as the
 * config's `arena.frames` keys (their env overrides, ARENA_FRAMES_*), so a change on the token path
 * can be measured against what it replaced in the same run. Nothing here is used by the production server.
 *
 *   BENCH_VARIANT=source       unchanged config (default: deltas flush at the end of the event-loop turn)
 *   BENCH_VARIANT=turn-1ms     end of the turn, or once the oldest waiting delta has waited 1 ms
 *   BENCH_VARIANT=task         at the end of the macrotask that produced them (only one read's tokens merge)
 *   BENCH_VARIANT=window-5ms   the policy before 2026-11-30: deltas wait up to 5 ms (a timer per battle)
 *   BENCH_VARIANT=no-coalesce  every delta is its own frame
 */
import { createArena } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { createLogger } from '../../server/infra/log.js';

/** BENCH_VARIANT → the env overrides of `arena.frames` (server/config/load.ts). */
const VARIANT_ENV: Record<string, Record<string, string>> = {
  source: {},
  'turn-1ms': { ARENA_FRAMES_COALESCE: 'turn', ARENA_FRAMES_MAX_WAIT_MS: '1' },
  'turn-2ms': { ARENA_FRAMES_COALESCE: 'turn', ARENA_FRAMES_MAX_WAIT_MS: '2' },
  task: { ARENA_FRAMES_COALESCE: 'task' },
  'window-5ms': { ARENA_FRAMES_COALESCE: 'window', ARENA_FRAMES_WINDOW_MS: '5' },
  'no-coalesce': { ARENA_FRAMES_COALESCE: 'none' },
};

const variant = process.env.BENCH_VARIANT ?? 'source';
const overrides = VARIANT_ENV[variant];
if (!overrides) throw new Error(`unknown BENCH_VARIANT ${variant}`);

const { config } = loadConfig({ env: { ...process.env, ...overrides } });
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
