import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import type { Logger } from '../infra/log.js';
import { runInBackground } from '../background.js';
import { isCluster, type RedisClient } from '../infra/redis.js';
import { FENCED_APPEND } from './lease-scripts.js';
import { withDeadline } from '../infra/deadline.js';

const LOG_TTL_SECONDS = 7 * 24 * 3600;
const RETRY_MS = 500;
/** Longest the token path waits for a log write before sending the frame anyway. */
const WRITE_WAIT_MS = 250;

/**
 * Each battle's events in a Redis Stream whose entry ids are the event seqs (`<seq>-1`), so
 * "events after seq N" is one XRANGE and a re-sent entry is refused as a duplicate.
 * `append` resolves once the events are stored, or at once when Redis is unreachable: then they
 * wait in a backlog (in seq order per battle, ahead of anything newer) until Redis returns.
 * Appends made in the same tick (every battle flushed in one event-loop turn) share one pipeline.
 * Every append carries this instance's epoch for the battle (its fencing token) and is refused
 * atomically once another instance took the battle over: `onFenced` hears of it, and the refused
 * events (and any backlog of that battle) are discarded, never written over the new writer's.
 */
export class RedisBattleLog {
  private backlog = new Map<string, SeqEvent[]>();
  private retryTimer: NodeJS.Timeout | null = null;
  private outgoing: Map<string, SeqEvent[]> | null = null;
  private outgoingStored: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: (battleId: string) => string,
    private readonly epochKey: (battleId: string) => string,
    private readonly epochOf: (battleId: string) => number | undefined,
    private readonly onFenced: (battleId: string) => void,
    private readonly logger: Logger,
    /** Events stored only after their frame went out (Redis was down then): other instances never got them. */
    private readonly onStoredLate: (battleId: string, events: SeqEvent[]) => void = () => undefined,
  ) {
    redis.on('ready', () => this.retrySoon(0));
  }

  append(battleId: string, events: readonly SeqEvent[]): Promise<void> {
    // Only this battle's own backlog holds it back (its events stay in seq order); another
    // battle's unwritable log never stalls this one.
    if (this.redis.status !== 'ready' || this.backlog.has(battleId)) {
      this.requeue(new Map([[battleId, [...events]]]));
      return Promise.resolve();
    }
    const batch = this.outgoing ?? this.startBatch();
    const queued = batch.get(battleId);
    if (queued) queued.push(...events);
    else batch.set(battleId, [...events]);
    return this.outgoingStored;
  }

  /** Collects this tick's appends; they are written together once the tick's work is done. */
  private startBatch(): Map<string, SeqEvent[]> {
    const batch = new Map<string, SeqEvent[]>();
    this.outgoing = batch;
    const stored = new Promise<void>((resolve) =>
      process.nextTick(() => {
        this.outgoing = null;
        resolve(this.write(batch));
      }),
    );
    // Settles either way: the deadline is all that is awaited; `write` logs its own failures.
    this.outgoingStored = withDeadline(stored.catch(() => undefined), WRITE_WAIT_MS, undefined);
    return batch;
  }

  async read(battleId: string, afterSeq: number): Promise<SeqEvent[]> {
    const entries = await this.redis.xrange(this.key(battleId), `${afterSeq + 1}-0`, '+');
    return entries.map(([, fields]) => JSON.parse(fields[1]) as SeqEvent);
  }

  /** Waits (boundedly) until the backlog is stored: used before handing battles off. */
  async drain(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlog.size > 0 && Date.now() < deadline && this.redis.status === 'ready') await this.flushBacklog();
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async write(batch: Map<string, SeqEvent[]>, late = false): Promise<void> {
    if (isCluster(this.redis)) return this.writePerBattle(this.redis, batch, late);
    const pipeline = this.redis.pipeline();
    const battles: string[] = [];
    for (const [battleId, events] of batch) {
      const epoch = this.epochOf(battleId);
      if (epoch === undefined) continue; // no longer ours: nothing of it may be written
      battles.push(battleId);
      // Each turn renews the expiry: once per turn is enough, not once per frame.
      const ttl = events.some((e) => e.t === 'turn') ? LOG_TTL_SECONDS : 0;
      const entries = events.flatMap((e) => [String(e.seq), JSON.stringify(e)]);
      pipeline.eval(FENCED_APPEND, 2, this.key(battleId), this.epochKey(battleId), epoch, ttl, ...entries);
    }
    if (battles.length === 0) return;
    let results: [Error | null, unknown][];
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, battles: batch.size }, 'battle log write failed; will retry');
      return this.requeue(batch);
    }
    const retry = new Map<string, SeqEvent[]>();
    battles.forEach((battleId, i) => {
      const [err, added] = results[i] ?? [new Error('no reply')];
      if (err) retry.set(battleId, batch.get(battleId)!);
      else if (added === -1) this.fenced(battleId);
      else if (late) this.onStoredLate(battleId, batch.get(battleId)!);
    });
    if (retry.size > 0) {
      this.logger.warn({ battles: retry.size }, 'battle log write failed; will retry');
      this.requeue(retry);
    }
  }

  /**
   * Cluster: each battle's append is a command of its own (one slot each; the client pipelines
   * them per node), so one battle's failure (its node failing over, its slot moving) only
   * requeues that battle.
   */
  private async writePerBattle(redis: RedisClient, batch: Map<string, SeqEvent[]>, late: boolean): Promise<void> {
    const retry = new Map<string, SeqEvent[]>();
    await Promise.all(
      [...batch].map(async ([battleId, events]) => {
        const epoch = this.epochOf(battleId);
        if (epoch === undefined) return;
        const ttl = events.some((e) => e.t === 'turn') ? LOG_TTL_SECONDS : 0;
        const entries = events.flatMap((e) => [String(e.seq), JSON.stringify(e)]);
        try {
          const added = await redis.eval(FENCED_APPEND, 2, this.key(battleId), this.epochKey(battleId), epoch, ttl, ...entries);
          if (added === -1) this.fenced(battleId);
          else if (late) this.onStoredLate(battleId, events);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, battleId }, 'battle log write failed; will retry');
          retry.set(battleId, events);
        }
      }),
    );
    if (retry.size > 0) this.requeue(retry);
  }

  /** Another instance holds the battle now: drop what is waiting for it and say so. */
  private fenced(battleId: string): void {
    this.backlog.delete(battleId);
    this.logger.warn({ battleId }, 'battle log append refused: another instance took this battle over');
    this.onFenced(battleId);
  }

  /** Forgets whatever still waits for a battle this instance gave up. */
  discard(battleId: string): void {
    this.backlog.delete(battleId);
  }

  private requeue(batch: Map<string, SeqEvent[]>): void {
    for (const [battleId, events] of batch) {
      const merged = [...(this.backlog.get(battleId) ?? []), ...events].sort((x, y) => x.seq - y.seq);
      this.backlog.set(battleId, merged);
    }
    this.retrySoon(RETRY_MS);
  }

  private async flushBacklog(): Promise<void> {
    const batch = this.backlog;
    this.backlog = new Map();
    await this.write(batch, true);
  }

  private retrySoon(ms: number): void {
    if (this.retryTimer || this.backlog.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.redis.status === 'ready') runInBackground(this.flushBacklog(), this.logger, 'battle log backlog flush');
      else this.retrySoon(RETRY_MS);
    }, ms);
  }
}

