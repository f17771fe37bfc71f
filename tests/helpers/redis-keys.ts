import { Cluster, Redis } from 'ioredis';

/**
 * The Redis the suite's Redis tests use: the machine's shared Redis, or, when the test command
 * runs them again against the local Redis Cluster (scripts/test.sh), its seed list
 * (ARENA_TEST_REDIS_URL, comma-separated). Tests keep to a random key prefix of their own.
 */
export const REDIS_URL = process.env.ARENA_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** The tests run against a Redis Cluster. */
export const REDIS_IS_CLUSTER = REDIS_URL.includes(',');
/** The local test cluster's seeds when it runs (scripts/redis-cluster.sh), else undefined. */
export const REDIS_CLUSTER_SEEDS = process.env.REDIS_CLUSTER_SEEDS || (REDIS_IS_CLUSTER ? REDIS_URL : undefined);

/** A plain client of the test Redis (a cluster client for a seed list). */
export function testRedis(url = REDIS_URL): Redis | Cluster {
  const seeds = url.split(',');
  if (seeds.length === 1) return new Redis(url);
  return new Cluster(
    seeds.map((s) => {
      const u = new URL(s);
      return { host: u.hostname, port: Number(u.port) };
    }),
  );
}

/** Removes a test's keys (its random prefix) from the shared Redis (every master of a cluster). */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = testRedis(url);
  const nodes = redis instanceof Cluster ? (await waitReady(redis), redis.nodes('master')) : [redis];
  for (const node of nodes) {
    const keys = await node.keys(`${prefix}*`);
    // One DEL per key: keys of different slots never share a command on a cluster.
    await Promise.all(keys.map((k) => redis.del(k)));
  }
  await redis.quit();
}

/** Every key under a prefix (all masters of a cluster). */
export async function keysWithPrefix(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  if (!(redis instanceof Cluster)) return redis.keys(`${prefix}*`);
  await waitReady(redis);
  return (await Promise.all(redis.nodes('master').map((n) => n.keys(`${prefix}*`)))).flat();
}

function waitReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => cluster.once('ready', () => resolve()));
}
