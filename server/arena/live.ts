import { answeringSides, isSettled } from '../../src/lib/shared/battle-reducer.js';
import type { SeqEvent, Side } from '../../src/lib/shared/protocol.js';
import { SIDES } from '../../src/lib/shared/protocol.js';
import type { BattleRecord } from '../store/types.js';
import { runInBackground } from '../background.js';
import type { BattleDeps } from './deps.js';
import { BattleEventLog, DEFAULT_COALESCE, type CoalescePolicy } from './event-log.js';
import type { MatchedPacer } from './pacer.js';
import { applyEvents } from './record.js';
import type { ThinkingIndicator } from './thinking.js';
import { battleView, loadSession } from './views.js';

/** A battle this instance runs: its record, its event log and the runs of its sides. */
export interface LiveBattle {
  record: BattleRecord;
  log: BattleEventLog;
  controllers: Partial<Record<Side, AbortController>>;
  /** Bumped on stop/regenerate/hand-off: events of an older run of a side are dropped. */
  runs: Record<Side, number>;
  lastActive: number;
  /** Shared mode: frames go out only after their log entries are stored, in order. */
  outbox: Promise<void>;
  /** The current turn's blind reasoning state (thinking.ts). */
  thinking?: ThinkingIndicator;
  /** `arena.pacing: matched`: the current turn's pacer (pacer.ts). */
  pacer?: MatchedPacer;
}

export const isStreaming = (live: LiveBattle) => Boolean(live.controllers.left || live.controllers.right || live.pacer?.busy);

/** Continues the unfinished sides of a battle taken over from a dead instance (the token path, turns.ts). */
export type Resume = (live: LiveBattle, unfinished: Side[]) => void;

/**
 * An idle battle leaves memory (and, with several instances, gives up its lease) after this long;
 * it comes back from the store and its log on the next action. Short, so memory and lease renewals
 * follow the battles actually streaming, not every battle of the last minutes.
 */
const IDLE_EVICT_MS = 2 * 60_000;
const EVICT_SCAN_MS = 15_000;
const ORPHAN_SCAN_MS = 1_000;

type LiveDeps = Pick<BattleDeps, 'store' | 'cluster' | 'models' | 'logger' | 'metrics' | 'port'> & { limits?: Pick<BattleDeps['limits'], 'frames'> };

/**
 * The battles this instance runs: tracking, publishing their frames, holding their leases,
 * bringing them back from the store, adopting orphans, evicting idle ones, the lease heartbeat.
 * Nothing runs before `start()`; `close()` stops it all and saves (or hands off) every battle.
 */
export class LiveBattles {
  private readonly live = new Map<string, LiveBattle>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  private readonly coalesce: CoalescePolicy;

  constructor(private readonly deps: LiveDeps) {
    const frames = deps.limits?.frames;
    this.coalesce = frames ? { mode: frames.coalesce, maxWaitMs: frames.maxWaitMs, windowMs: frames.windowMs } : DEFAULT_COALESCE;
  }

  get closing(): boolean {
    return this.closed;
  }

  get(battleId: string): LiveBattle | undefined {
    return this.live.get(battleId);
  }

  start(resume: Resume): void {
    const { cluster, port } = this.deps;
    this.every(EVICT_SCAN_MS, () => this.evictIdle());
    if (!cluster.shared) return;
    cluster.startHeartbeat(
      () => [...this.live.values()].map((l) => ({ id: l.record.id, streaming: isStreaming(l) })),
      (id) => this.drop(id),
    );
    this.every(ORPHAN_SCAN_MS, () => this.adoptOrphans(resume));
    cluster.onLateStore?.((battleId, events) => port.sendRemote(battleId, events));
  }

  /**
   * Single instance: every stream is stopped and saved. Several: streams are handed off, and
   * another instance continues them from the log.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.timers.forEach(clearInterval);
    const { cluster } = this.deps;
    const handoff = cluster.shared && cluster.handOffOnShutdown?.() !== false;
    await Promise.allSettled(
      [...this.live.values()].map(async (live) => {
        const streaming = isStreaming(live);
        if (handoff) silence(live);
        else for (const s of SIDES) live.controllers[s]?.abort();
        if (!handoff) for (const s of SIDES) endUnfinished(live, s);
        live.log.flush();
        live.log.dispose();
        await live.outbox;
        await this.persist(live);
        await cluster.release(live.record.id, handoff && streaming).catch(() => undefined);
      }),
    );
  }

  track(record: BattleRecord): LiveBattle {
    const live: LiveBattle = {
      record,
      controllers: {},
      runs: { left: 0, right: 0 },
      lastActive: Date.now(),
      outbox: Promise.resolve(),
      log: new BattleEventLog(record.lastSeq ?? 0, (events, since) => {
        applyEvents(record, events);
        record.lastSeq = events.at(-1)!.seq;
        this.deps.metrics.framesSent.inc();
        this.observeDelivery(record, events, since);
        this.publish(live, events);
      }, this.coalesce),
    };
    this.live.set(record.id, live);
    return live;
  }

  /** The battle, here (taking the lease if free and bringing it back from the store), or 'elsewhere'. */
  async hold(battleId: string): Promise<LiveBattle | 'elsewhere' | null> {
    const local = this.live.get(battleId);
    if (local) return local;
    if (!(await this.deps.cluster.acquire(battleId))) return 'elsewhere';
    const live = await this.rehydrate(battleId);
    if (!live) await this.deps.cluster.release(battleId, false);
    return live;
  }

  /** The stored record brought up to date with the shared log. */
  async currentRecord(battleId: string): Promise<{ record: BattleRecord; seq: number } | null> {
    const local = this.live.get(battleId);
    if (local) return { record: local.record, seq: local.log.seq };
    const record = await this.deps.store.getBattle(battleId);
    if (!record) return null;
    const events = await this.deps.cluster.readLog(battleId, record.lastSeq ?? 0);
    applyEvents(record, events);
    record.lastSeq = events.at(-1)?.seq ?? record.lastSeq ?? 0;
    return { record, seq: record.lastSeq };
  }

  /** Events after `afterSeq`, or null when they are not all held (the caller sends a full view). */
  async eventsAfter(battleId: string, afterSeq: number): Promise<SeqEvent[] | null> {
    const local = this.live.get(battleId);
    if (local) return local.log.after(afterSeq);
    if (!this.deps.cluster.shared) return null;
    const events = await this.deps.cluster.readLog(battleId, afterSeq);
    return events.length === 0 || events[0].seq === afterSeq + 1 ? events : null;
  }

  /** A battle's stored events for clients that may have missed frames; null when this instance runs it (they did not). */
  async storedEventsForCatchUp(battleId: string): Promise<SeqEvent[] | null> {
    if (this.live.has(battleId) || !this.deps.cluster.shared) return null;
    return this.deps.cluster.readLog(battleId, 0);
  }

  streamingBattles(): number {
    let n = 0;
    for (const live of this.live.values()) if (isStreaming(live)) n++;
    return n;
  }

  async persist(live: LiveBattle): Promise<void> {
    try {
      // A holder that lost the battle (unknown to it yet: it was cut off) must not overwrite the
      // new writer's record. The check goes through the cluster connection, which hears of a
      // takeover before anything of ours is written after a reconnect.
      if (!(await this.deps.cluster.holds(live.record.id))) return;
      await this.deps.store.putBattle(live.record);
    } catch (err) {
      this.deps.metrics.errors.inc({ type: 'store' });
      this.deps.logger.error({ battleId: live.record.id, err }, 'failed to persist battle');
    }
  }

  /** Shared mode: a frame goes out only once stored in the log, so a takeover never rewinds what clients saw. */
  private publish(live: LiveBattle, events: SeqEvent[]): void {
    const send = () => this.deps.port.sendFrame(live.record.id, events);
    if (!this.deps.cluster.shared) return send();
    live.outbox = live.outbox.then(() => this.deps.cluster.appendLog(live.record.id, events)).then(send, send);
  }

  private observeDelivery(record: BattleRecord, events: SeqEvent[], since: number): void {
    const delta = events.find((e) => e.t === 'delta');
    if (!delta || delta.t !== 'delta') return;
    const deployment = record.turns[delta.turn]?.answers[delta.side].deployment ?? 'unknown';
    this.deps.metrics.tokenDelivery.observe({ deployment }, (performance.now() - since) / 1000);
  }

  private async rehydrate(battleId: string): Promise<LiveBattle | null> {
    const current = await this.currentRecord(battleId);
    return current ? (this.live.get(battleId) ?? this.track(current.record)) : null;
  }

  /** Battles whose owner died mid-stream: take the lease and continue their answers here. */
  private async adoptOrphans(resume: Resume): Promise<void> {
    if (this.closed) return;
    for (const battleId of await this.deps.cluster.orphans()) {
      if (this.live.has(battleId) || !(await this.deps.cluster.acquire(battleId))) continue;
      const live = await this.rehydrate(battleId);
      if (!live) {
        await this.deps.cluster.release(battleId, false);
        continue;
      }
      const turn = live.record.turns.length - 1;
      const unfinished = answeringSides(live.record).filter((s) => turn >= 0 && !isSettled(live.record.turns[turn].answers[s].status));
      this.deps.logger.warn({ battleId, sides: unfinished }, 'took over a battle from a dead instance');
      resume(live, unfinished);
    }
  }

  /** Another instance took this battle over: stop touching it. */
  private drop(battleId: string): void {
    const live = this.live.get(battleId);
    if (!live) return;
    silence(live);
    live.log.dispose();
    this.live.delete(battleId);
    this.deps.logger.warn({ battleId }, 'lost the lease of a battle; another instance runs it now');
    runInBackground(this.resyncClients(battleId), this.deps.logger, 'resync of a lost battle', { battleId });
  }

  private async resyncClients(battleId: string): Promise<void> {
    try {
      const current = await this.currentRecord(battleId);
      if (!current) return;
      const { record, seq } = current;
      const { models, store } = this.deps;
      const owner = battleView(models, record, seq, true, await loadSession(store, record.sessionHash));
      this.deps.port.resetLocal(battleId, { sessionHash: record.sessionHash, owner, spectator: battleView(models, record, seq, false) });
    } catch (err) {
      this.deps.logger.warn({ battleId, err: (err as Error).message }, 'could not resync clients of a lost battle');
    }
  }

  private evictIdle(): void {
    const cutoff = Date.now() - IDLE_EVICT_MS;
    for (const [id, live] of this.live) {
      if (live.lastActive < cutoff && !isStreaming(live)) {
        live.log.dispose();
        this.live.delete(id);
        void this.deps.cluster.release(id, false).catch(() => undefined);
      }
    }
  }

  private every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => {
      Promise.resolve(fn()).catch((err) => this.deps.logger.warn({ err: (err as Error).message }, 'background task failed'));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** Stops this instance's streams of a battle without ending the answers (regenerate, hand-off). */
export function silence(live: LiveBattle): void {
  live.pacer?.close();
  live.pacer = undefined;
  for (const s of SIDES) {
    live.runs[s]++;
    live.controllers[s]?.abort();
    live.controllers[s] = undefined;
  }
}

/** Shutdown without hand-off: a side still streaming ends as interrupted. */
function endUnfinished(live: LiveBattle, side: Side): void {
  if (!answeringSides(live.record).includes(side)) return;
  const turn = live.record.turns.length - 1;
  const answer = live.record.turns[turn]?.answers[side];
  if (answer && !isSettled(answer.status)) {
    live.runs[side]++;
    // Through the pacer: it drops the side's held chunks and keeps the end behind what it let out.
    (live.pacer?.turn === turn ? live.pacer : live.log).push({
      t: 'end',
      side,
      turn,
      status: 'interrupted',
      error: 'The server restarted or shut down while this answer was streaming.',
    });
  }
}
