import type { SeqEvent } from '../../src/lib/shared/protocol.js';

/** Delivery of a battle's events to this instance's sockets (server/realtime/relay.ts). */
export type FrameSink = (battleId: string, events: SeqEvent[]) => void;

/**
 * What instances must agree on to act as one arena: who runs each battle's model streams
 * (a lease), and each battle's ordered event log (so any instance can replay it).
 * Single instance: `LocalCluster`, where this process owns everything and the log lives in the
 * battle itself. Several: `RedisCluster`.
 */
export interface Cluster {
  readonly instanceId: string;
  /** True when other instances may exist (state must go through Redis). */
  readonly shared: boolean;
  /** Takes (or confirms) this instance's ownership of a battle. */
  acquire(battleId: string): Promise<boolean>;
  /** Whether this instance still holds the battle at its epoch (no other instance took it over). */
  holds(battleId: string): Promise<boolean>;
  /** Gives a battle up; with `handoff`, another instance takes over its unfinished streams at once. */
  release(battleId: string, handoff: boolean): Promise<void>;
  /**
   * Appends events to the battle's shared log (ordered, retried until stored). Resolves once
   * stored, or early when the log is unreachable; never rejects.
   */
  appendLog(battleId: string, events: readonly SeqEvent[]): Promise<void>;
  /**
   * Hears of events stored only after their frame had gone out (the log was unreachable then, so
   * other instances never got them): they are sent to the other instances again.
   */
  onLateStore?(listener: (battleId: string, events: SeqEvent[]) => void): void;
  /**
   * Only where frames travel with the log append (workers without Redis): delivers the frames
   * other instances appended to `sink`, for battles `wants` says this instance has sockets for.
   */
  onRemoteFrames?(sink: FrameSink, wants: (battleId: string) => boolean): void;
  /** Events after `afterSeq`, from the shared log. */
  readLog(battleId: string, afterSeq: number): Promise<SeqEvent[]>;
  /** Battles with streams in flight whose owner stopped renewing its lease. */
  orphans(): Promise<string[]>;
  /** A battle starts streaming: if this instance dies now, another must take it over. */
  markStreaming(battleId: string): void;
  /**
   * Renews the leases of the battles this instance holds and marks which are streaming;
   * `onLost` hears of a battle another instance took over meanwhile.
   */
  startHeartbeat(held: () => Iterable<{ id: string; streaming: boolean }>, onLost: (battleId: string) => void): void;
  /**
   * False when every instance is stopping together (`arena serve --workers N` shut down as a
   * whole): nobody would take streaming battles over, so they end as stopped instead.
   */
  handOffOnShutdown?(): boolean;
  close(): Promise<void>;
}

export class LocalCluster implements Cluster {
  readonly shared = false;
  constructor(readonly instanceId: string) {}
  async acquire(): Promise<boolean> {
    return true;
  }
  async holds(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
  async appendLog(): Promise<void> {}
  async readLog(): Promise<SeqEvent[]> {
    return [];
  }
  async orphans(): Promise<string[]> {
    return [];
  }
  markStreaming(): void {}
  startHeartbeat(): void {}
  async close(): Promise<void> {}
}
