import type { Logger } from '../infra/log.js';
import { redisTarget } from '../infra/redis.js';
import { openRedisStore } from './redis.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** Redis when configured (state shared by every instance), else the embedded SQLite file. */
export interface StoreConfig {
  dataDir: string;
  redisUrl?: string;
  redisPrefix?: string;
  redisCluster?: boolean | 'auto';
  redisClusterDnsPassthrough?: boolean;
  redisClusterNatMap?: Record<string, string>;
  redisClusterBuckets?: number;
}

/** The Redis a config points at (single or cluster), or null. */
export function configRedisTarget(config: StoreConfig) {
  if (!config.redisUrl) return null;
  return redisTarget(config.redisUrl, { cluster: config.redisCluster, dnsPassthrough: config.redisClusterDnsPassthrough, natMap: config.redisClusterNatMap });
}

export function openStore(config: StoreConfig, logger: Logger): Store {
  const target = configRedisTarget(config);
  return target
    ? openRedisStore({ url: target, prefix: config.redisPrefix, logger, buckets: config.redisClusterBuckets })
    : openSqliteStore({ dir: config.dataDir, logger });
}
