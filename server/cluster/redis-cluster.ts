import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import type { Logger } from '../infra/log.js';
import { isCluster, retryOnFailover, type RedisClient } from '../infra/redis.js';
import { redisLayout, type RedisLayout } from '../infra/redis-layout.js';
import { RedisBattleLog } from './battle-log.js';
import { ACQUIRE, RELEASE, RENEW } from './lease-scripts.js';
import type { Cluster } from './types.js';

export interface RedisClusterOptions {
  redis: RedisClient;
  prefix: string;
  /** Key layout (default: by the client, tagged per battle on a cluster). */
  layout?: RedisLayout;
  instanceId: string;
  logger: Logger;
  /** A lease not renewed for this long is dead: its streaming battles are taken over. */
  leaseMs?: number;
  /**
   * How long this instance must have been connected to Redis before it adopts anything: after an
   * outage every lease has expired, and each holder re-asserts its own within a second of
   * reconnecting. Only a holder still silent after this long is dead. Default: `leaseMs`.
   */
  adoptGraceMs?: number;
}

/** The epoch counter outlives the lease (a battle can be resumed days later): as long as its log. */
const EPOCH_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Leases (`lease:<battle>` = instance id, with a TTL renewed by a heartbeat) decide which
 * instance runs a battle's model streams; each acquisition bumps the battle's epoch, the fencing
 * token every log append is checked against (lease-scripts.ts). The sorted set `streaming` holds
 * battles with streams in flight scored by lease expiry, so a dead owner's battles are found with
 * one range query.
 */
export class RedisCluster implements Cluster {
  readonly shared = true;
  readonly instanceId: string;
  private readonly redis: RedisClient;
  /** A Redis Cluster: commands of different battles are never pipelined together. */
  private readonly perBattle: boolean;
  private readonly leaseMs: number;
  private readonly adoptGraceMs: number;
  private readonly log: RedisBattleLog;
  private readonly key: { lease: (id: string) => string; epoch: (id: string) => string; streaming: (id: string) => string; allStreaming: string[] };
  /** My epoch of each battle whose lease I hold. */
  private readonly epochs = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  private beatNow: (() => void) | null = null;
  private onLost: (battleId: string) => void = () => undefined;
  private onStoredLate: (battleId: string, events: SeqEvent[]) => void = () => undefined;
  private readySince: number;
  private readonly logger: Logger;

  constructor(opts: RedisClusterOptions) {
    this.redis = opts.redis;
    this.instanceId = opts.instanceId;
    this.leaseMs = opts.leaseMs ?? 3_000;
    this.adoptGraceMs = opts.adoptGraceMs ?? this.leaseMs;
    this.logger = opts.logger;
    this.perBattle = isCluster(opts.redis);
    const layout = opts.layout ?? redisLayout(opts.prefix, this.perBattle);
    this.key = {
      lease: (id) => layout.battle('lease', id),
      epoch: (id) => layout.battle('epoch', id),
      streaming: (id) => layout.bucket('streaming', layout.bucketOf(id)),
      allStreaming: layout.allBuckets('streaming'),
    };
    this.log = new RedisBattleLog(
      opts.redis,
      (id) => layout.battle('log', id),
      this.key.epoch,
      (id) => this.epochs.get(id),
      (id) => this.lost(id),
      opts.logger,
      (id, events) => this.onStoredLate(id, events),
    );
    // A fresh connection counts from now (startup is no outage: nothing was orphaned by it).
    this.readySince = opts.redis.status === 'ready' ? Date.now() - this.adoptGraceMs : Date.now();
    opts.redis.on('ready', () => {
      this.readySince = Date.now();
      // Back after an outage: re-assert our leases before anyone may think us dead.
      this.beatNow?.();
    });
  }

  async acquire(battleId: string): Promise<boolean> {
    const epoch = Number(
      await retryOnFailover(this.redis, () => this.redis.eval(ACQUIRE, 2, this.key.lease(battleId), this.key.epoch(battleId), this.instanceId, this.leaseMs, EPOCH_TTL_SECONDS)),
    );
    if (epoch > 0) this.epochs.set(battleId, epoch);
    return epoch > 0;
  }

  async holds(battleId: string): Promise<boolean> {
    const mine = this.epochs.get(battleId);
    if (mine === undefined) return false;
    const stored = Number((await this.redis.get(this.key.epoch(battleId))) ?? 0);
    return stored === mine || stored === 0;
  }

  async release(battleId: string, handoff: boolean): Promise<void> {
    await this.log.drain();
    const epoch = this.epochs.get(battleId) ?? -1;
    if (this.perBattle) {
      // The streaming set's bucket is in another slot: two commands.
      await Promise.all([
        this.redis.eval(RELEASE, 2, this.key.lease(battleId), this.key.epoch(battleId), this.instanceId, epoch),
        handoff ? this.redis.zadd(this.key.streaming(battleId), 0, battleId) : this.redis.zrem(this.key.streaming(battleId), battleId),
      ]);
    } else {
      const pipeline = this.redis.pipeline().eval(RELEASE, 2, this.key.lease(battleId), this.key.epoch(battleId), this.instanceId, epoch);
      if (handoff) pipeline.zadd(this.key.streaming(battleId), 0, battleId);
      else pipeline.zrem(this.key.streaming(battleId), battleId);
      await pipeline.exec();
    }
    this.epochs.delete(battleId);
    this.log.discard(battleId);
  }

  onLateStore(listener: (battleId: string, events: SeqEvent[]) => void): void {
    this.onStoredLate = listener;
  }

  appendLog(battleId: string, events: readonly SeqEvent[]): Promise<void> {
    return this.log.append(battleId, events);
  }

  readLog(battleId: string, afterSeq: number): Promise<SeqEvent[]> {
    return this.log.read(battleId, afterSeq);
  }

  async orphans(): Promise<string[]> {
    // Right after an outage every lease looks dead: wait until their holders had time to speak.
    if (this.redis.status !== 'ready' || Date.now() - this.readySince < this.adoptGraceMs) return [];
    if (this.key.allStreaming.length === 1) return this.redis.zrangebyscore(this.key.allStreaming[0], '-inf', Date.now(), 'LIMIT', 0, 20);
    const now = Date.now();
    const buckets = await Promise.all(this.key.allStreaming.map((k) => this.redis.zrangebyscore(k, '-inf', now, 'LIMIT', 0, 20)));
    return buckets.flat().slice(0, 20);
  }

  markStreaming(battleId: string): void {
    this.redis.zadd(this.key.streaming(battleId), Date.now() + this.leaseMs, battleId).catch(() => undefined);
  }

  startHeartbeat(held: () => Iterable<{ id: string; streaming: boolean }>, onLost: (battleId: string) => void): void {
    this.onLost = onLost;
    const beatPerBattle = async () => {
      // Cluster: one battle's renewal never waits for (or fails with) another's.
      const expiry = Date.now() + this.leaseMs;
      const renewals: Promise<void>[] = [];
      for (const { id, streaming } of held()) {
        const epoch = this.epochs.get(id);
        if (epoch === undefined) continue;
        renewals.push(
          this.redis.eval(RENEW, 2, this.key.lease(id), this.key.epoch(id), this.instanceId, this.leaseMs, epoch).then(
            (renewed) => {
              if (renewed === 0) this.lost(id);
            },
            (err: Error) => this.logger.warn({ err: err.message, battleId: id }, 'lease renewal failed'),
          ),
        );
        const listed = streaming ? this.redis.zadd(this.key.streaming(id), expiry, id) : this.redis.zrem(this.key.streaming(id), id);
        renewals.push(listed.then(() => undefined, () => undefined));
      }
      await Promise.all(renewals);
    };
    const beat = async () => {
      if (this.perBattle) return beatPerBattle();
      const pipeline = this.redis.pipeline();
      const expiry = Date.now() + this.leaseMs;
      const ids: string[] = [];
      for (const { id, streaming } of held()) {
        const epoch = this.epochs.get(id);
        if (epoch === undefined) continue;
        ids.push(id);
        pipeline.eval(RENEW, 2, this.key.lease(id), this.key.epoch(id), this.instanceId, this.leaseMs, epoch);
        if (streaming) pipeline.zadd(this.key.streaming(id), expiry, id);
        else pipeline.zrem(this.key.streaming(id), id);
      }
      if (ids.length === 0) return;
      const results = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const [err, renewed] = results[i * 2] ?? [];
        if (!err && renewed === 0) this.lost(id);
      });
    };
    const safeBeat = () => {
      beat().catch((err: Error) => this.logger.warn({ err: err.message }, 'lease heartbeat failed'));
    };
    this.beatNow = safeBeat;
    this.heartbeat = setInterval(safeBeat, Math.floor(this.leaseMs / 3));
    this.heartbeat.unref();
  }

  /** Another instance holds the battle now (its epoch moved on): stop every write of ours. */
  private lost(battleId: string): void {
    if (!this.epochs.delete(battleId)) return;
    this.log.discard(battleId);
    this.onLost(battleId);
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.beatNow = null;
    await this.log.drain();
    this.log.close();
  }
}
