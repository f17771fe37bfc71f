import { createShardedAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { newId } from '../arena/ids.js';
import { connectRedis, connectSubscriber, redisTarget, type RedisClient, type RedisTarget } from '../redis.js';
import { redisLayout } from '../redis-layout.js';
import { RedisCluster } from './redis-cluster.js';

/** After the subscriber is back: long enough for every instance to reconnect and store its backlog. */
export const CATCH_UP_AFTER_MS = 2_000;

/** Longest a join waits for its room's Redis subscription (Redis down: it proceeds, frames resume by seq). */
const ROOM_SUBSCRIBE_WAIT_MS = 2_000;

/**
 * Redis connections for the cluster (leases, logs) and the sharded Socket.IO adapter. On a Redis
 * Cluster every client is an ioredis Cluster: the publisher SPUBLISHes to the node owning the
 * room channel's slot, the subscriber holds one connection per master (`shardedSubscribers`).
 */
export function connectShared(url: string | RedisTarget, prefix: string, logger: Logger, buckets?: number) {
  const target = redisTarget(url);
  const redis = connectRedis(target, logger, 'cluster', target.cluster ? { enableAutoPipelining: true } : {});
  // No offline queue for publishing: while Redis is down a broadcast must reach local clients at
  // once (the adapter awaits the publish before delivering locally), not after retries.
  const pub = connectRedis(target, logger, 'adapter-pub', { enableOfflineQueue: false, enableAutoPipelining: true });
  const sub = connectSubscriber(target, logger, 'adapter-sub');
  const layout = redisLayout(prefix, target.cluster, buckets);
  return {
    redis,
    cluster: new RedisCluster({ redis, prefix, instanceId: newId(), logger, layout }),
    adapter: createShardedAdapter(pub, sub, { channelPrefix: `${prefix}sio`, subscriptionMode: 'dynamic' }),
    publisherReady: () => whenReady(pub, ROOM_SUBSCRIBE_WAIT_MS),
    /** Calls `listener` each time the subscriber is back after losing Redis (frames may have been missed). */
    onSubscriberBack: (listener: () => void) => {
      let lost = false;
      sub.on('reconnecting', () => (lost = true));
      sub.on('ready', () => {
        if (lost) listener();
        lost = false;
      });
    },
    // The adapter's channel for a room of the default namespace ("dynamic" subscription mode).
    roomReady: (room: string) => sub.whenSubscribed(`${prefix}sio#/#${room}#`, ROOM_SUBSCRIBE_WAIT_MS),
    close: async () => {
      for (const client of [redis, pub, sub]) client.disconnect();
    },
  };
}

/** Resolves once the client is connected, or after `timeoutMs` (whatever happens to it then). */
function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => (clearTimeout(timer), client.off('ready', done), resolve());
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}
