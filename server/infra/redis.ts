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
    // Reconnect at least every second: a command's three attempts then span ~3 s at most, so an
    // action during an outage gets its refusal within the client's patience.
    retryStrategy: (times) => Math.min(times * 100, 1_000),
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

/**
 * The Socket.IO adapter's subscriber. The adapter fires (S)SUBSCRIBE/(S)UNSUBSCRIBE as rooms come
 * and go and drops the promise, so a failed call would be an unhandled rejection. Here they never
 * give up while Redis is down: they wait in the offline queue and run, in order, when it returns
 * (channels subscribed before the outage are restored by ioredis itself). What still fails (the
 * connection being closed at shutdown) is logged.
 */
export function connectSubscriber(url: string, logger: Logger, role: string): Subscriber {
  const redis = connectRedis(url, logger, role, { maxRetriesPerRequest: null }) as Subscriber;
  const subscribing = new Map<string, Promise<unknown>>();
  for (const name of ['subscribe', 'unsubscribe', 'ssubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe'] as const) {
    const original = redis[name].bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const pending = original(...args);
      pending.catch((err: Error) => logger.warn({ err: err.message, role, command: name }, 'redis subscription change failed'));
      if (name === 'ssubscribe' && typeof args[0] === 'string') {
        const channel = args[0];
        subscribing.set(channel, pending);
        const done = () => subscribing.get(channel) === pending && subscribing.delete(channel);
        pending.then(done, done);
      }
      return pending;
    };
  }
  redis.whenSubscribed = async (channel, timeoutMs) => {
    const pending = subscribing.get(channel);
    if (!pending) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const subscribed = pending.then(() => true, () => false);
    try {
      return await Promise.race([subscribed, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
  return redis;
}

export type Subscriber = Redis & {
  /** Resolves once a pending SSUBSCRIBE of the channel has been confirmed by Redis (false: failed or timed out). */
  whenSubscribed(channel: string, timeoutMs: number): Promise<boolean>;
};

/** Seconds a client is told to wait before retrying an action refused because Redis is unreachable. */
export const REDIS_RETRY_AFTER_SECONDS = 5;

/** An error that means "Redis is unreachable right now" (as opposed to a bug or a bad command). */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|connect ETIMEDOUT/.test(err.message);
}
