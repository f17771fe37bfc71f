import type { Logger } from '../infra/log.js';
import { openRedisStore } from './redis.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** Redis when configured (state shared by every instance), else the embedded SQLite file. */
export function openStore(config: { dataDir: string; redisUrl?: string; redisPrefix?: string }, logger: Logger): Store {
  return config.redisUrl
    ? openRedisStore({ url: config.redisUrl, prefix: config.redisPrefix, logger })
    : openSqliteStore({ dir: config.dataDir, logger });
}
