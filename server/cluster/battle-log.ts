import type { Redis } from 'ioredis';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import type { Logger } from '../log.js';

const LOG_TTL_SECONDS = 7 * 24 * 3600;
const RETRY_MS = 500;

/**
 * Each battle's events in a Redis Stream whose entry ids are the event seqs (`<seq>-1`), so
 * "events after seq N" is one XRANGE and a re-sent entry is refused as a duplicate. Writes are
 * off the token path: queued per battle, sent in one pipeline at a time (so order holds), and
 * re-sent after a Redis outage until stored.
 */
export class RedisBattleLog {
  private pending = new Map<string, SeqEvent[]>();
  private writing = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly key: (battleId: string) => string,
    private readonly logger: Logger,
  ) {
    redis.on('ready', () => {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.write();
    });
  }

  append(battleId: string, events: readonly SeqEvent[]): void {
    const queue = this.pending.get(battleId);
    if (queue) queue.push(...events);
    else this.pending.set(battleId, [...events]);
    this.write();
  }

  async read(battleId: string, afterSeq: number): Promise<SeqEvent[]> {
    const entries = await this.redis.xrange(this.key(battleId), `${afterSeq + 1}-0`, '+');
    return entries.map(([, fields]) => JSON.parse(fields[1]) as SeqEvent);
  }

  /** Waits (boundedly) until everything queued so far is stored: used before handing battles off. */
  async drain(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.size > 0 || this.writing) && Date.now() < deadline) {
      if (!this.writing && !this.retryTimer) await this.writeOnce();
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private write(): void {
    if (!this.writing && !this.retryTimer && this.pending.size > 0) void this.writeOnce();
  }

  private async writeOnce(): Promise<void> {
    this.writing = true;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.redis.pipeline();
    for (const [battleId, events] of batch) {
      for (const e of events) pipeline.xadd(this.key(battleId), `${e.seq}-1`, 'e', JSON.stringify(e));
      pipeline.expire(this.key(battleId), LOG_TTL_SECONDS);
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err && !isDuplicate(err));
      if (failed) throw failed[0];
    } catch (err) {
      // Put the batch back in front of anything queued meanwhile, and try again later.
      for (const [battleId, events] of this.pending) batch.set(battleId, [...(batch.get(battleId) ?? []), ...events]);
      this.pending = batch;
      this.logger.warn({ err: (err as Error).message, battles: batch.size }, 'battle log write failed; will retry');
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        this.write();
      }, RETRY_MS);
    } finally {
      this.writing = false;
    }
    this.write();
  }
}

function isDuplicate(err: Error): boolean {
  return /equal or smaller than the target stream top item/.test(err.message);
}
