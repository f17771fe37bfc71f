import { Cluster, Redis, type ClusterOptions, type NatMap, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';
import { withDeadline } from './deadline.js';

/** A connection to a single Redis, or a cluster client (commands routed by key slot). */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is. `urls` is one URL (a single Redis, or a managed cluster's configuration
 * endpoint with `cluster: true`) or a seed list of cluster nodes.
 */
export interface RedisTarget {
  urls: string[];
  cluster: boolean;
  /** Connect to cluster nodes by the names given (TLS endpoints whose certificates name the host, e.g. ElastiCache). */
  dnsPassthrough?: boolean;
  /** Cluster node addresses as announced → as reachable from here ("10.0.0.5:6379" → "redis-a.example:6379"). */
  natMap?: Record<string, string>;
}

/** A config value (`redisUrl`: one URL or a comma-separated seed list) and mode as a target. */
export function redisTarget(url: string | RedisTarget, opts: { cluster?: boolean | 'auto'; dnsPassthrough?: boolean; natMap?: Record<string, string> } = {}): RedisTarget {
  if (typeof url !== 'string') return url;
  const urls = url.split(',').map((u) => u.trim()).filter(Boolean);
  const cluster = opts.cluster === undefined || opts.cluster === 'auto' ? urls.length > 1 : opts.cluster;
  return { urls, cluster, dnsPassthrough: opts.dnsPassthrough, natMap: opts.natMap };
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** The master nodes of a cluster client (the one connection of a single Redis). */
export function masterNodes(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

function nodeOptions(url: string): { host: string; port: number; redisOptions: RedisOptions } {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    redisOptions: {
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    },
  };
}

/**
 * Every Redis connection Arena opens goes through here: errors are logged (once per kind, since
 * reconnect attempts repeat them) and never crash the process; reconnecting never stops.
 * A cluster target gets an ioredis Cluster client with the same patience: commands wait through
 * failovers and slot migrations (MOVED/ASK/TRYAGAIN/CLUSTERDOWN are retried by the client).
 */
export function connectRedis(url: string | RedisTarget, logger: Logger, role: string, options: RedisOptions = {}, clusterOptions: ClusterOptions = {}): RedisClient {
  const target = redisTarget(url);
  if (target.cluster) return watchErrors(connectCluster(target, options, clusterOptions), logger, role);
  return watchErrors(connectSingle(target.urls[0], options), logger, role);
}

function connectCluster(target: RedisTarget, options: RedisOptions, clusterOptions: ClusterOptions): Cluster {
  const seeds = target.urls.map(nodeOptions);
  const { enableOfflineQueue, enableAutoPipelining, ...perNode } = options;
  const natMap: NatMap | undefined = target.natMap
    ? Object.fromEntries(
        Object.entries(target.natMap).map(([from, to]) => {
          const [host, port] = to.split(':');
          return [from, { host, port: Number(port || 6379) }];
        }),
      )
    : undefined;
  const cluster = new Cluster(
    seeds.map(({ host, port }) => ({ host, port })),
    {
      redisOptions: { connectTimeout: 5_000, maxRetriesPerRequest: 3, ...seeds[0].redisOptions, ...perNode },
      enableOfflineQueue: enableOfflineQueue ?? true,
      enableAutoPipelining: enableAutoPipelining ?? false,
      clusterRetryStrategy: (times) => Math.min(times * 100, 1_000),
      // Failover and resharding: a command to a slot whose master is gone or moving waits and retries.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 100,
      retryDelayOnMoved: 0,
      maxRedirections: 64,
      slotsRefreshTimeout: 2_000,
      slotsRefreshInterval: 2_000,
      ...(target.dnsPassthrough ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
      ...(natMap ? { natMap } : {}),
      ...clusterOptions,
    },
  );
  // The subscriber (maxRetriesPerRequest: null) waits for Redis however long it takes.
  if (options.maxRetriesPerRequest !== null) boundOfflineQueue(cluster, CLUSTER_OFFLINE_WAIT_MS);
  return cluster;
}

/**
 * Longest a command waits in a cluster client's offline queue (every node unreachable) before it
 * fails: about what a single Redis client's three reconnect attempts take (maxRetriesPerRequest).
 */
const CLUSTER_OFFLINE_WAIT_MS = 3_000;

/**
 * A single Redis client gives a command up after a few reconnect attempts; an ioredis Cluster
 * keeps it in its offline queue until the cluster is back, so an action during a long outage would
 * get no answer and would still run (a vote stored) minutes later. Here a command queued that long
 * is taken out of the queue (it never runs) and fails as "Cluster isn't ready" (Redis unavailable).
 */
function boundOfflineQueue(cluster: Cluster, maxWaitMs: number): void {
  type Item = { command: { reject(err: Error): void } };
  type Queue = { length: number; shift(): Item | undefined; push(item: Item): void };
  const queuedSince = new WeakMap<object, number>();
  const timer = setInterval(() => {
    const queue = (cluster as unknown as { offlineQueue?: Queue }).offlineQueue;
    if (!queue?.length) return;
    const now = Date.now();
    const keep: Item[] = [];
    for (let item = queue.shift(); item; item = queue.shift()) {
      const since = queuedSince.get(item.command) ?? now;
      queuedSince.set(item.command, since);
      if (now - since >= maxWaitMs) item.command.reject(new Error(`Cluster isn't ready: no Redis node reachable for ${maxWaitMs} ms`));
      else keep.push(item);
    }
    for (const item of keep) queue.push(item);
  }, 250);
  timer.unref();
  cluster.once('end', () => clearInterval(timer));
}

function connectSingle(url: string, options: RedisOptions): Redis {
  return new Redis(url, {
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
}

function watchErrors<T extends RedisClient>(redis: T, logger: Logger, role: string): T {
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
  if (isCluster(redis)) {
    const nodeError = (error: Error, node: string) => {
      if (error.message === lastError) return;
      lastError = error.message;
      logger.warn({ err: error.message, role, node }, 'redis cluster node error, reconnecting');
    };
    redis.on('node error', nodeError);
    redis.on('nodeError', nodeError); // a sharded subscriber's node
  }
  return redis;
}

/**
 * The Socket.IO adapter's subscriber. The adapter fires (S)SUBSCRIBE/(S)UNSUBSCRIBE as rooms come
 * and go and drops the promise, so a failed call would be an unhandled rejection. Here they never
 * give up while Redis is down: they wait in the offline queue and run, in order, when it returns
 * (channels subscribed before the outage are restored by ioredis itself). What still fails (the
 * connection being closed at shutdown) is logged.
 */
export function connectSubscriber(url: string | RedisTarget, logger: Logger, role: string): Subscriber {
  // A cluster subscriber keeps one connection per master (ioredis `shardedSubscribers`), each
  // SSUBSCRIBE going to the node that owns its channel's slot, re-subscribed as slots move.
  const redis = connectRedis(url, logger, role, { maxRetriesPerRequest: null }, { shardedSubscribers: true, slotsRefreshInterval: 1_000 }) as Subscriber;
  if (isCluster(redis)) guardShardedSubscribers(redis, logger, role);
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
    return withDeadline(
      pending.then(() => true, () => false),
      timeoutMs,
      false,
    );
  };
  return redis;
}

/**
 * ioredis (5.11) stops a node's sharded subscriber (its slots moved away) by disconnecting it and
 * removing every listener; a SUNSUBSCRIBE the node pushes as its slots leave can still be parsed
 * then, and its "Command queue state error" would be emitted with no listener: an uncaught
 * exception. Each subscriber connection keeps a listener that logs instead.
 */
function guardShardedSubscribers(cluster: Cluster, logger: Logger, role: string): void {
  type Sharded = { instance: Redis | null; stop(): void; arenaGuarded?: boolean };
  const guard = () => {
    const group = (cluster as unknown as { shardedSubscribers?: { shardedSubscribers?: Map<string, Sharded> } }).shardedSubscribers;
    for (const sharded of group?.shardedSubscribers?.values() ?? []) {
      if (sharded.arenaGuarded) continue;
      sharded.arenaGuarded = true;
      const stop = sharded.stop.bind(sharded);
      sharded.stop = () => {
        const instance = sharded.instance;
        stop();
        instance?.on('error', (err: Error) => logger.debug({ err: err.message, role }, 'stopped sharded subscriber error (ignored)'));
      };
    }
  };
  cluster.on('+subscriber', guard);
  cluster.on('ready', guard);
}

export type Subscriber = RedisClient & {
  /** Resolves once a pending SSUBSCRIBE of the channel has been confirmed by Redis (false: failed or timed out). */
  whenSubscribed(channel: string, timeoutMs: number): Promise<boolean>;
};

/**
 * Cluster: runs a write again when it hit a node that stopped being the slot's master (a failover
 * just happened: READONLY, MASTERDOWN) or the cluster was briefly unsure, after re-reading the
 * slot map. ioredis itself follows MOVED/ASK/TRYAGAIN/CLUSTERDOWN, not these. Single Redis: runs once.
 * Only for writes that are safe to repeat (scripts that check before they write, SETs).
 */
export async function retryOnFailover<T>(client: RedisClient, work: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isCluster(client) || attempt >= attempts || !/^(READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|LOADING|MOVED|ASK)|same slots allocation group/.test((err as Error).message)) throw err;
      await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** Seconds a client is told to wait before retrying an action refused because Redis is unreachable. */
export const REDIS_RETRY_AFTER_SECONDS = 5;

/** An error that means "Redis is unreachable right now" (as opposed to a bug or a bad command). */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (err.name === 'ClusterAllFailedError') return true;
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|connect ETIMEDOUT|CLUSTERDOWN|TRYAGAIN|None of startup nodes|Failed to refresh slots cache|Cluster isn't ready|Too many Cluster redirections/.test(err.message);
}
