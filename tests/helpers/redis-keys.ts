import { Redis } from 'ioredis';

/** The machine's shared Redis; tests keep to a random key prefix of their own. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Removes a test's keys (its random prefix) from the shared Redis. */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}
