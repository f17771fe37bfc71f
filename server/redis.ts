import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

/**
 * Every Redis connection Arena opens goes through here: errors are logged (once per kind, since
 * reconnect attempts repeat them) and never crash the process; reconnecting never stops.
 */
export function connectRedis(url: string, logger: Logger, role: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    // While Redis is down, commands wait through a few reconnect attempts, then fail with a
    // clear MaxRetriesPerRequestError instead of hanging.
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    ...options,
  });
  let lastError: string | undefined;
  redis.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error.message, role }, 'redis connection error, reconnecting');
  });
  redis.on('ready', () => {
    if (lastError !== undefined) logger.info({ role }, 'redis reconnected');
    lastError = undefined;
  });
  return redis;
}
