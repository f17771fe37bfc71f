import type { Redis } from 'ioredis';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import type { Logger } from '../log.js';
import { RedisBattleLog } from './battle-log.js';
import type { Cluster } from './types.js';

export interface RedisClusterOptions {
  redis: Redis;
  prefix: string;
  instanceId: string;
  logger: Logger;
  /** A lease not renewed for this long is dead: its streaming battles are taken over. */
  leaseMs?: number;
}

// Renew a lease we hold, or re-claim one that vanished (Redis restarted without its data);
// 0 means another instance took it over.
const RENEW = `local v = redis.call('get', KEYS[1])
if v == ARGV[1] or not v then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
// Release only a lease we still hold.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Leases (`lease:<battle>` = instance id, with a TTL renewed by a heartbeat) decide which
 * instance runs a battle's model streams; the sorted set `streaming` holds battles with streams
 * in flight scored by lease expiry, so a dead owner's battles are found with one range query.
 */
export class RedisCluster implements Cluster {
  readonly shared = true;
  readonly instanceId: string;
  private readonly redis: Redis;
  private readonly leaseMs: number;
  private readonly log: RedisBattleLog;
  private readonly key: { lease: (id: string) => string; streaming: string };
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly logger: Logger;

  constructor(opts: RedisClusterOptions) {
    this.redis = opts.redis;
    this.instanceId = opts.instanceId;
    this.leaseMs = opts.leaseMs ?? 3_000;
    this.logger = opts.logger;
    this.key = { lease: (id) => `${opts.prefix}lease:${id}`, streaming: `${opts.prefix}streaming` };
    this.log = new RedisBattleLog(opts.redis, (id) => `${opts.prefix}log:${id}`, opts.logger);
  }

  async acquire(battleId: string): Promise<boolean> {
    const key = this.key.lease(battleId);
    if ((await this.redis.set(key, this.instanceId, 'PX', this.leaseMs, 'NX')) === 'OK') return true;
    return (await this.redis.get(key)) === this.instanceId;
  }

  async release(battleId: string, handoff: boolean): Promise<void> {
    if (handoff) await this.log.drain();
    const pipeline = this.redis.pipeline().eval(RELEASE, 1, this.key.lease(battleId), this.instanceId);
    if (handoff) pipeline.zadd(this.key.streaming, 0, battleId);
    else pipeline.zrem(this.key.streaming, battleId);
    await pipeline.exec();
  }

  appendLog(battleId: string, events: readonly SeqEvent[]): Promise<void> {
    return this.log.append(battleId, events);
  }

  readLog(battleId: string, afterSeq: number): Promise<SeqEvent[]> {
    return this.log.read(battleId, afterSeq);
  }

  async orphans(): Promise<string[]> {
    return this.redis.zrangebyscore(this.key.streaming, '-inf', Date.now(), 'LIMIT', 0, 20);
  }

  markStreaming(battleId: string): void {
    this.redis.zadd(this.key.streaming, Date.now() + this.leaseMs, battleId).catch(() => undefined);
  }

  startHeartbeat(held: () => Iterable<{ id: string; streaming: boolean }>, onLost: (battleId: string) => void): void {
    const beat = async () => {
      const pipeline = this.redis.pipeline();
      const expiry = Date.now() + this.leaseMs;
      const ids: string[] = [];
      for (const { id, streaming } of held()) {
        ids.push(id);
        pipeline.eval(RENEW, 1, this.key.lease(id), this.instanceId, this.leaseMs);
        if (streaming) pipeline.zadd(this.key.streaming, expiry, id);
        else pipeline.zrem(this.key.streaming, id);
      }
      if (ids.length === 0) return;
      const results = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const [err, renewed] = results[i * 2] ?? [];
        if (!err && renewed === 0) onLost(id);
      });
    };
    this.heartbeat = setInterval(() => {
      beat().catch((err) => this.logger.warn({ err: (err as Error).message }, 'lease heartbeat failed'));
    }, Math.floor(this.leaseMs / 3));
    this.heartbeat.unref();
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.log.drain();
    this.log.close();
  }
}
