import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import { runInBackground } from '../background.js';
import type { Logger } from '../infra/log.js';
import { appendBatch, type AppendBatch, type CoordinatorRequest } from './machine-coordinator.js';
import type { Cluster, FrameSink } from './types.js';

/** Marks Arena's own IPC messages (the Socket.IO cluster adapter shares the channel). */
export const IPC_TAG = 'arena:coordinator';
const REQUEST_TIMEOUT_MS = 5_000;

export interface IpcRequest {
  [IPC_TAG]: number;
  req: CoordinatorRequest;
}
export interface IpcReply {
  [IPC_TAG]: number;
  result: unknown;
}
/** The primary stops every worker: each shuts down as a single server would (no hand-off). */
export interface IpcStopAll {
  [IPC_TAG]: 0;
  stopAll: true;
}
/**
 * A worker's log append, forwarded by the primary to every other worker: the frames for their
 * sockets ride on the append (one IPC message per event-loop turn, every battle in it), instead
 * of one cluster-adapter broadcast per frame on top of the append.
 */
export interface IpcFrames {
  [IPC_TAG]: 0;
  /** The append's batches as the primary received them: each battle's events serialized once. */
  frames: AppendBatch[];
}

/**
 * A worker of `arena serve --workers N` without Redis: the same contract as RedisCluster, the
 * state held by the primary process (MachineCoordinator) and reached over IPC. Log appends of one
 * event-loop turn travel as one message, as they share one Redis pipeline in RedisCluster.
 */
export class MachineCluster implements Cluster {
  readonly shared = true;
  /** Request ids start at 1: id 0 marks a one-way message. */
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; timer: NodeJS.Timeout }>();
  private outgoing: Map<string, SeqEvent[]> | null = null;
  private outgoingStored: Promise<void> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | null = null;
  private stoppingTogether = false;
  /** Battles the primary said another worker took over. */
  private readonly lost = new Set<string>();
  /** Frames other workers appended ride the primary's forward of their append (IpcFrames). */
  private frames: { sink: FrameSink; wants: (battleId: string) => boolean } | undefined;
  private readonly onMessage = (msg: unknown) => {
    if (!msg || typeof msg !== 'object' || !(IPC_TAG in msg)) return;
    if ('stopAll' in msg) {
      this.stoppingTogether = true;
      // The worker's own shutdown path (server/main.ts), now that it knows not to hand off.
      process.emit('SIGTERM', 'SIGTERM');
      return;
    }
    if ('frames' in msg) {
      for (const [battleId, , , json] of (msg as IpcFrames).frames) {
        if (this.frames?.wants(battleId)) this.frames.sink(battleId, JSON.parse(json) as SeqEvent[]);
      }
      return;
    }
    const { [IPC_TAG]: id, result } = msg as IpcReply;
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    clearTimeout(waiting.timer);
    waiting.resolve(result);
  };

  constructor(
    readonly instanceId: string,
    private readonly logger: Logger,
    private readonly leaseMs = 3_000,
  ) {
    if (!process.send) throw new Error('MachineCluster runs only in a worker of `arena serve --workers N`');
    process.on('message', this.onMessage);
  }

  /** Cluster.onRemoteFrames: a battle nobody here watches costs no parse. */
  onRemoteFrames(sink: FrameSink, wants: (battleId: string) => boolean): void {
    this.frames = { sink, wants };
  }

  async acquire(battleId: string): Promise<boolean> {
    const acquired = (await this.call({ op: 'acquire', battleId, instanceId: this.instanceId, leaseMs: this.leaseMs }, false)) === true;
    if (acquired) this.lost.delete(battleId);
    return acquired;
  }

  /** The primary arbitrates leases over IPC, so the only way to lose one is its renewal saying so. */
  async holds(battleId: string): Promise<boolean> {
    return !this.lost.has(battleId);
  }

  async release(battleId: string, handoff: boolean): Promise<void> {
    await this.outgoingStored;
    await this.call({ op: 'release', battleId, instanceId: this.instanceId, handoff }, null);
  }

  appendLog(battleId: string, events: readonly SeqEvent[]): Promise<void> {
    const batch = this.outgoing ?? this.startBatch();
    const queued = batch.get(battleId);
    if (queued) queued.push(...events);
    else batch.set(battleId, [...events]);
    return this.outgoingStored;
  }

  async readLog(battleId: string, afterSeq: number): Promise<SeqEvent[]> {
    return ((await this.call({ op: 'read', battleId, afterSeq }, [])) as SeqEvent[]) ?? [];
  }

  async orphans(): Promise<string[]> {
    return ((await this.call({ op: 'orphans' }, [])) as string[]) ?? [];
  }

  markStreaming(battleId: string): void {
    runInBackground(this.call({ op: 'streaming', battleId, until: Date.now() + this.leaseMs }, null), this.logger, 'marking a battle streaming', { battleId });
  }

  startHeartbeat(held: () => Iterable<{ id: string; streaming: boolean }>, onLost: (battleId: string) => void): void {
    this.heartbeat = setInterval(() => {
      const list = [...held()];
      if (list.length === 0) return;
      const renewed = this.call({ op: 'renew', instanceId: this.instanceId, leaseMs: this.leaseMs, held: list }, []).then((lost) => {
        for (const battleId of lost as string[]) {
          this.lost.add(battleId);
          onLost(battleId);
        }
      });
      runInBackground(renewed, this.logger, 'lease renewal');
    }, Math.floor(this.leaseMs / 3));
    this.heartbeat.unref();
  }

  handOffOnShutdown(): boolean {
    return !this.stoppingTogether;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.outgoingStored;
    process.off('message', this.onMessage);
  }

  /**
   * One-way: the append counts as stored once it is in the channel. The primary reads its channel
   * in order, so any later request (a read, a takeover after the lease lapsed) sees it, and a
   * worker that dies right after has its written messages read all the same. Waiting for a reply
   * cost a second IPC message per event-loop turn, and a round trip before local sockets got a frame.
   */
  private startBatch(): Map<string, SeqEvent[]> {
    const batch = new Map<string, SeqEvent[]>();
    this.outgoing = batch;
    this.outgoingStored = new Promise<void>((resolve) => {
      const send = () => {
        this.outgoing = null;
        const batches: AppendBatch[] = [];
        for (const [battleId, events] of batch) batches.push(appendBatch(battleId, events));
        const message: IpcRequest = { [IPC_TAG]: 0, req: { op: 'append', batches } };
        try {
          process.send!(message, undefined, undefined, (err: Error | null) => {
            if (err) this.logger.warn({ err: err.message }, 'log append not sent to the primary process');
            resolve();
          });
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'log append not sent to the primary process');
          resolve();
        }
      };
      process.nextTick(send);
    });
    return batch;
  }

  /** Never rejects: a primary that does not answer in time yields `fallback` (and a warning). */
  private call(req: CoordinatorRequest, fallback: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.logger.warn({ op: req.op }, 'the primary process did not answer a coordination request');
        resolve(fallback);
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      const message: IpcRequest = { [IPC_TAG]: id, req };
      process.send!(message, undefined, undefined, (err: Error | null) => {
        if (!err) return;
        this.pending.delete(id);
        clearTimeout(timer);
        resolve(fallback);
      });
    });
  }
}
