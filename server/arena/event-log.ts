import type { BattleEvent, SeqEvent } from '../../src/lib/shared/protocol.js';

/** A coalesced delta this long goes out at once instead of waiting for the end of the turn. */
const MAX_BATCH_CHARS = 4096;

/**
 * How deltas wait before they go out (config `arena.frames`, docs/configuration.md):
 * - `turn` (default): until the end of the event-loop turn (`setImmediate`), every battle's deltas
 *   of the turn in one callback; with `maxWaitMs` > 0 the waiting logs also flush as soon as the
 *   oldest of them has waited that long (checked at every delta), so a long turn under load does
 *   not hold the first deltas of the turn for all of it.
 * - `task`: until the end of the current macrotask (a microtask): only what one read produced merges.
 * - `window`: a timer of `windowMs` per battle.
 * - `none`: every delta its own frame.
 */
export interface CoalescePolicy {
  mode: 'turn' | 'task' | 'window' | 'none';
  windowMs?: number;
  maxWaitMs?: number;
}

export const DEFAULT_COALESCE: CoalescePolicy = { mode: 'turn' };

/**
 * What waits for the end of the turn: deltas, and a side's `streaming` status, which always comes
 * just before the side's first delta: one frame for both instead of two.
 */
function waits(event: BattleEvent): boolean {
  return event.t === 'delta' || (event.t === 'status' && event.status === 'streaming');
}

/** Logs with deltas waiting. One callback flushes them all, so their store writes share one pipeline. */
const waiting = new Set<BattleEventLog>();
let flushScheduled = false;
/** When the first of the waiting logs started waiting (`turn` with `maxWaitMs`). */
let waitingSince = 0;

function flushWaiting(): void {
  flushScheduled = false;
  if (waiting.size === 0) return;
  const logs = [...waiting];
  waiting.clear();
  for (const log of logs) log.flush();
}

/**
 * One battle's ordered event log. Deltas wait only until the end of the current event-loop
 * turn: tokens that arrived together (many under load, one when idle) merge into one frame, and
 * an idle server adds no delay at all. Every other event (but a side's `streaming` status, which
 * rides with its first delta) flushes at once, so ends and votes are never held back. Sequence numbers are assigned at flush, which is when an event becomes real:
 * the record is updated and the frame broadcast in the same step, so a view and its `seq` agree.
 */
export class BattleEventLog {
  private windowTimer: NodeJS.Timeout | null = null;
  private pending: BattleEvent[] = [];
  private pendingChars = 0;
  private oldestPendingAt = 0;
  private log: SeqEvent[] = [];
  /** Events before this seq are not held here (rehydrated from the store, or settled and dropped). */
  private firstSeq: number;
  seq: number;

  constructor(
    startSeq: number,
    private readonly onFlush: (events: SeqEvent[], oldestPendingAt: number) => void,
    private readonly policy: CoalescePolicy = DEFAULT_COALESCE,
  ) {
    this.seq = startSeq;
    this.firstSeq = startSeq + 1;
  }

  push(event: BattleEvent): void {
    const { mode } = this.policy;
    if (!waits(event) || mode === 'none') return this.append(event, true);
    if (event.t !== 'delta') this.append(event, false);
    else {
      this.pendingChars += (event.text?.length ?? 0) + (event.reasoning?.length ?? 0);
      if (!this.mergeDelta(event)) this.append(event, false);
    }
    if (this.pendingChars >= MAX_BATCH_CHARS) this.flush();
    else if (mode === 'turn') this.waitForTurnEnd();
    else if (mode === 'task') this.waitForTaskEnd();
    else this.windowTimer ??= setTimeout(() => ((this.windowTimer = null), this.flush()), this.policy.windowMs ?? 5);
  }

  flush(): void {
    waiting.delete(this);
    // `window`: the next delta starts a window of its own.
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = null;
    if (this.pending.length === 0) return;
    // Stamp in place: a copy per event ({...e, seq}) gave every event its own hidden class.
    const events = this.pending as SeqEvent[];
    for (const e of events) {
      e.seq = ++this.seq;
      this.log.push(e);
    }
    this.pending = [];
    this.pendingChars = 0;
    this.onFlush(events, this.oldestPendingAt);
  }

  /** Events after `seq`, or null when some of them are no longer held (caller sends a full view). */
  after(seq: number): SeqEvent[] | null {
    if (seq >= this.seq) return [];
    if (seq + 1 < this.firstSeq) return null;
    return this.log.slice(seq + 1 - this.firstSeq);
  }

  /**
   * Forgets the events flushed so far. A settled battle's record already holds their sum, and a
   * full view replaces them for anyone who asks later, so they would only cost memory.
   */
  forget(): void {
    this.log = [];
    this.firstSeq = this.seq + 1;
  }

  dispose(): void {
    this.disposed = true;
    waiting.delete(this);
    if (this.windowTimer) clearTimeout(this.windowTimer);
  }

  private waitForTurnEnd(): void {
    const maxWait = this.policy.maxWaitMs ?? 0;
    if (maxWait > 0) {
      const now = performance.now();
      if (waiting.size === 0) waitingSince = now;
      else if (now - waitingSince >= maxWait) {
        // Everything that waited this long goes out now, this delta with it. The end-of-turn
        // callback stays scheduled for whatever arrives after.
        waiting.add(this);
        flushWaiting();
        flushScheduled = true;
        return;
      }
    }
    waiting.add(this);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushWaiting);
  }

  private taskFlushQueued = false;
  private disposed = false;
  private waitForTaskEnd(): void {
    if (this.taskFlushQueued) return;
    this.taskFlushQueued = true;
    queueMicrotask(() => {
      this.taskFlushQueued = false;
      if (!this.disposed) this.flush();
    });
  }

  private append(event: BattleEvent, now: boolean): void {
    if (this.pending.length === 0) this.oldestPendingAt = performance.now();
    this.pending.push(event);
    if (now) this.flush();
  }

  /**
   * Only deltas wait (and a side's `streaming` status, which comes just before its first delta), so
   * merging into the same side's pending delta keeps every order that matters.
   */
  private mergeDelta(event: Extract<BattleEvent, { t: 'delta' }>): boolean {
    // A plain loop: find() with a closure allocated per token showed in the token path's profile.
    let same: BattleEvent | undefined;
    for (let i = this.pending.length - 1; i >= 0 && !same; i--) {
      const e = this.pending[i]!;
      if (e.t === 'delta' && e.side === event.side && e.turn === event.turn) same = e;
    }
    if (!same || same.t !== 'delta') return false;
    if (event.text) same.text = (same.text ?? '') + event.text;
    if (event.reasoning) same.reasoning = (same.reasoning ?? '') + event.reasoning;
    return true;
  }
}
