import type { SeqEvent } from '../../src/lib/shared/protocol.js';

/**
 * What RedisCluster keeps in Redis, kept in the primary process of `arena serve --workers N`
 * when no Redis is configured: battle leases, the streaming set (for orphan takeover) and each
 * battle's event log. Workers reach it over the cluster IPC channel (machine-cluster.ts); one
 * process and one thread, so every operation is atomic like a Redis script.
 */

/** An idle battle's log is dropped after this long: the store holds its record by then. */
const LOG_IDLE_MS = 10 * 60_000;

export type CoordinatorRequest =
  | { op: 'acquire'; battleId: string; instanceId: string; leaseMs: number }
  | { op: 'release'; battleId: string; instanceId: string; handoff: boolean }
  /** One message per event-loop turn of a worker: every battle it flushed in that turn. */
  | { op: 'append'; batches: AppendBatch[] }
  | { op: 'read'; battleId: string; afterSeq: number }
  | { op: 'orphans' }
  | { op: 'streaming'; battleId: string; until: number }
  | { op: 'renew'; instanceId: string; leaseMs: number; held: { id: string; streaming: boolean }[] };

/**
 * One battle's events of one append, serialized once by the worker: the primary stores and
 * forwards the string as it came (a JSON string inside the IPC message parses and serializes far
 * faster than the events as objects) and parses it only when a log is read (a late join or a takeover).
 */
export type AppendBatch = [battleId: string, firstSeq: number, lastSeq: number, eventsJson: string];

export function appendBatch(battleId: string, events: readonly SeqEvent[]): AppendBatch {
  return [battleId, events[0]?.seq ?? 0, events.at(-1)?.seq ?? 0, JSON.stringify(events)];
}

interface StoredLog {
  chunks: { last: number; json: string }[];
  last: number;
  touched: number;
}

export class MachineCoordinator {
  private readonly leases = new Map<string, { owner: string; expires: number }>();
  /** Battles with streams in flight, by the expiry of their owner's lease. */
  private readonly streaming = new Map<string, number>();
  private readonly logs = new Map<string, StoredLog>();

  constructor(private readonly now: () => number = Date.now) {}

  handle(req: CoordinatorRequest): unknown {
    switch (req.op) {
      case 'acquire':
        return this.acquire(req.battleId, req.instanceId, req.leaseMs);
      case 'release':
        if (this.leases.get(req.battleId)?.owner === req.instanceId) this.leases.delete(req.battleId);
        if (req.handoff) this.streaming.set(req.battleId, 0);
        else this.streaming.delete(req.battleId);
        return null;
      case 'append':
        for (const [battleId, first, last, json] of req.batches) this.append(battleId, first, last, json);
        return null;
      case 'read':
        return this.read(req.battleId, req.afterSeq);
      case 'orphans':
        return [...this.streaming].filter(([, until]) => until < this.now()).slice(0, 20).map(([id]) => id);
      case 'streaming':
        this.streaming.set(req.battleId, req.until);
        return null;
      case 'renew':
        return this.renew(req.instanceId, req.leaseMs, req.held);
    }
  }

  /** Forgets logs nobody appended to for a while (called every minute by the primary). */
  sweep(): void {
    const cutoff = this.now() - LOG_IDLE_MS;
    for (const [id, log] of this.logs) if (log.touched < cutoff) this.logs.delete(id);
    for (const [id, lease] of this.leases) if (lease.expires < cutoff) this.leases.delete(id);
  }

  private acquire(battleId: string, instanceId: string, leaseMs: number): boolean {
    const lease = this.leases.get(battleId);
    if (lease && lease.owner !== instanceId && lease.expires > this.now()) return false;
    this.leases.set(battleId, { owner: instanceId, expires: this.now() + leaseMs });
    return true;
  }

  /** Ids of the battles this instance lost to another one. */
  private renew(instanceId: string, leaseMs: number, held: { id: string; streaming: boolean }[]): string[] {
    const lost: string[] = [];
    const expires = this.now() + leaseMs;
    for (const { id, streaming } of held) {
      const lease = this.leases.get(id);
      // Like the Redis script: a lapsed lease is no lease, so its holder may claim it again.
      if (lease && lease.owner !== instanceId && lease.expires > this.now()) {
        lost.push(id);
        continue;
      }
      this.leases.set(id, { owner: instanceId, expires });
      if (streaming) this.streaming.set(id, expires);
      else this.streaming.delete(id);
    }
    return lost;
  }

  /** In seq order; an event at or below the log's last seq is a resend and is ignored. */
  private append(battleId: string, first: number, last: number, json: string): void {
    let log = this.logs.get(battleId);
    if (!log) this.logs.set(battleId, (log = { chunks: [], last: 0, touched: 0 }));
    log.touched = this.now();
    if (last <= log.last) return;
    // A resend overlapping what is held (rare): keep only the new events.
    if (first <= log.last) {
      const after = log.last;
      json = JSON.stringify((JSON.parse(json) as SeqEvent[]).filter((e) => e.seq > after));
    }
    log.chunks.push({ last, json });
    log.last = last;
  }

  private read(battleId: string, afterSeq: number): SeqEvent[] {
    const chunks = this.logs.get(battleId)?.chunks ?? [];
    // Seqs are dense and start anywhere (a log may begin after a restart): skip the chunks at or before afterSeq.
    const out: SeqEvent[] = [];
    for (const chunk of chunks) {
      if (chunk.last <= afterSeq) continue;
      for (const e of JSON.parse(chunk.json) as SeqEvent[]) if (e.seq > afterSeq) out.push(e);
    }
    return out;
  }
}
