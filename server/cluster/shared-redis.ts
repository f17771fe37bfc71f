import { createShardedAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { newId } from '../arena/ids.js';
import { connectRedis, connectSubscriber, isCluster, redisTarget, type RedisClient, type RedisTarget } from '../infra/redis.js';
import { redisLayout } from '../infra/redis-layout.js';
import { RedisCluster } from './redis-cluster.js';

/** After the subscriber is back: long enough for every instance to reconnect and store its backlog. */
export const CATCH_UP_AFTER_MS = 2_000;

/** Cluster: a topology change is caught up from the log again this long after the first time. */
const TOPOLOGY_CATCH_UP_AGAIN_MS = 4_000;

/** Longest a join waits for its room's Redis subscription (Redis down: it proceeds, frames resume by seq). */
const ROOM_SUBSCRIBE_WAIT_MS = 2_000;

/** How long a join that went on without its subscription still waits for it, to catch the room up. */
const LATE_SUBSCRIBE_WAIT_MS = 60_000;

/**
 * Redis connections for the cluster (leases, logs) and the sharded Socket.IO adapter. On a Redis
 * Cluster every client is an ioredis Cluster: the publisher SPUBLISHes to the node owning the
 * room channel's slot, the subscriber holds one connection per master (`shardedSubscribers`).
 */
export function connectShared(url: string | RedisTarget, prefix: string, logger: Logger, buckets?: number) {
  const target = redisTarget(url);
  // Cluster: no auto-pipelining. ioredis groups such pipelines by node from its slot map, and a
  // failover or slot migration turns a whole group into MOVED / "same slots allocation group"
  // errors instead of per-command redirects.
  const redis = connectRedis(target, logger, 'cluster');
  // No offline queue for publishing: while Redis is down a broadcast must reach local clients at
  // once (the adapter awaits the publish before delivering locally), not after retries.
  const pub = connectRedis(target, logger, 'adapter-pub', { enableOfflineQueue: false, enableAutoPipelining: !target.cluster });
  const sub = connectSubscriber(target, logger, 'adapter-sub');
  const layout = redisLayout(prefix, target.cluster, buckets);
  // The adapter's channel for a room of the default namespace ("dynamic" subscription mode).
  const roomChannel = (room: string) => `${prefix}sio#/#${room}#`;
  return {
    redis,
    cluster: new RedisCluster({ redis, prefix, instanceId: newId(), logger, layout }),
    adapter: createShardedAdapter(pub, sub, { channelPrefix: `${prefix}sio`, subscriptionMode: 'dynamic' }),
    publisherReady: () => whenReady(pub, ROOM_SUBSCRIBE_WAIT_MS),
    /** Calls `listener` each time the subscriber is back after losing Redis (frames may have been missed). */
    onSubscriberBack: (listener: () => void) => {
      if (isCluster(sub)) onTopologyChange(sub, pub, listener);
      let lost = false;
      sub.on('reconnecting', () => (lost = true));
      sub.on('ready', () => {
        if (lost) listener();
        lost = false;
      });
    },
    /** True once the room's subscription is active; false when it was not within ROOM_SUBSCRIBE_WAIT_MS. */
    roomReady: (room: string) => sub.whenSubscribed(roomChannel(room), ROOM_SUBSCRIBE_WAIT_MS),
    /** After a roomReady that said false: resolves true once that subscription is active (false: it failed or never came). */
    roomSubscribedLate: (room: string) => sub.whenSubscribed(roomChannel(room), LATE_SUBSCRIBE_WAIT_MS),
    close: async () => {
      for (const client of [redis, pub, sub]) client.disconnect();
    },
  };
}

/**
 * Cluster: a failover or a slot migration moves room channels to another node; the subscriber
 * re-subscribes there once it sees the new slot map, and what was published in between never
 * reached it. The slot map is re-read every second (and as soon as the publisher was redirected);
 * each change counts as "the subscriber is back": rooms catch up from the stored log.
 */
function onTopologyChange(sub: RedisClient, pub: RedisClient, onChange: () => void): void {
  if (!isCluster(sub) || !isCluster(pub)) return;
  // Once now and once more later: a node's subscriber can take a few seconds to come back.
  const listener = () => {
    onChange();
    setTimeout(onChange, TOPOLOGY_CATCH_UP_AGAIN_MS).unref();
  };
  let shape = '';
  sub.on('refresh', () => {
    let next = '';
    let previous: string | undefined;
    sub.slots.forEach((nodes, slot) => {
      if (nodes?.[0] !== previous) next += `${slot}:${(previous = nodes?.[0])};`;
    });
    if (shape && next !== shape) listener();
    shape = next;
  });
  pub.on('refresh', () => sub.refreshSlotsCache());
  // Re-subscribed on the new nodes (ioredis re-subscribes after each topology change): whatever
  // was published while the subscription moved is caught up from the log.
  let first = true;
  sub.on('subscribersReady', () => {
    if (!first) listener();
    first = false;
  });
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
