import nodeCluster from 'node:cluster';
import { RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ClientEventName } from '../../src/lib/shared/protocol.js';
import type { Config } from '../config/schema.js';
import type { RedisClient } from '../infra/redis.js';

/** Which budget an event spends; events not listed here only spend the per-socket flood budget. */
const CATEGORY: Partial<Record<ClientEventName, 'battle' | 'prompt' | 'vote'>> = {
  'battle:start': 'battle',
  'battle:next': 'battle',
  'battle:send': 'prompt',
  'battle:regenerate': 'prompt',
  'battle:vote': 'vote',
  'watch:vote': 'vote',
};

export interface RateLimits {
  /** Resolves, or rejects with the seconds to wait. */
  connection(ip: string): Promise<void>;
  event(event: ClientEventName, sessionHash: string, ip: string): Promise<void>;
  /** Per-socket flood guard (local: a socket lives on one instance). */
  flood(socketId: string): Promise<void>;
}

export class RateLimited extends Error {
  constructor(
    readonly what: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`Too many ${what}. Try again in ${retryAfterSeconds} s.`);
  }
}

/**
 * Per session and per IP, shared by every instance through Redis when there is one (with an
 * in-memory fallback while Redis is unreachable, so an outage never turns into "no limits" or
 * "no service"). Workers of `arena serve --workers N` without Redis count in the primary process
 * (rate-limiter-flexible's cluster limiter; server/workers.ts runs its master).
 */
export function createRateLimits(limits: Config['limits'], redis: RedisClient | null, prefix: string): RateLimits {
  const make = (key: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix: key, points, duration });
    if (redis)
      // While Redis is not connected the in-memory limiter answers at once instead of waiting for retries.
      return new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}rl:${key}`, points, duration, insuranceLimiter: memory, rejectIfRedisNotReady: true });
    return nodeCluster.isWorker ? new RateLimiterCluster({ keyPrefix: key, points, duration, timeoutMs: 3_000 }) : memory;
  };
  const battles = make('battles', limits.battlesPerMinute, 60);
  const prompts = make('prompts-ip', limits.promptsPerMinutePerIp, 60);
  const votes = make('votes', limits.votesPerMinute, 60);
  const connections = make('conn-ip', limits.connectionsPerMinutePerIp, 60);
  const flood = new RateLimiterMemory({ keyPrefix: 'flood', points: limits.eventsPerSecond, duration: 1 });

  return {
    connection: (ip) => spend(connections, ip, 'connections from your address'),
    async event(event, sessionHash, ip) {
      const category = CATEGORY[event];
      if (category === 'battle') await spend(battles, sessionHash, 'new battles a minute');
      if (category === 'battle' || category === 'prompt') await spend(prompts, ip, 'prompts from your address');
      if (category === 'vote') await spend(votes, sessionHash, 'votes a minute');
    },
    flood: (socketId) => spend(flood, socketId, 'requests a second'),
  };
}

async function spend(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (res) {
    if (res instanceof RateLimiterRes) throw new RateLimited(what, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    throw res;
  }
}
