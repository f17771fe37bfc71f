import type { BattleEvent, SeqEvent } from '../../src/lib/shared/protocol.js';

/** A coalesced delta this long goes out at once instead of waiting for the end of the turn. */
const MAX_BATCH_CHARS = 4096;

/**
 * How deltas wait before they go out. 'turn' (the server's only policy): until the end of the
 * event-loop turn. The others exist for the bench's policy comparison (bench/relay/arena-variant.ts):
 * a fixed window per battle, or 'none' (every delta its own frame).
 */
export type CoalescePolicy = 'turn' | 'none' | { windowMs: number };

/** Logs with deltas waiting. One callback flushes them all, so their store writes share one pipeline. */
const waiting = new Set<BattleEventLog>();
let flushScheduled = false;

function flushWaiting(): void {
  flushScheduled = false;
  const logs = [...waiting];
  waiting.clear();
  for (const log of logs) log.flush();
}

/**
 * One battle's ordered event log. Deltas wait only until the end of the current event-loop
 * turn: tokens that arrived together (many under load, one when idle) merge into one frame, and
 * an idle server adds no delay at all. Every other event flushes at once, so ends and votes are
 * never held back. Sequence numbers are assigned at flush, which is when an event becomes real:
 * the record is updated and the frame broadcast in the same step, so a view and its `seq` agree.
 */
export class BattleEventLog {
  /** Read at every delta; set once at start-up, before any battle (the bench's variants only). */
  static coalesce: CoalescePolicy = 'turn';
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
  ) {
    this.seq = startSeq;
    this.firstSeq = startSeq + 1;
  }

  push(event: BattleEvent): void {
    if (event.t !== 'delta') return this.append(event, true);
    const policy = BattleEventLog.coalesce;
    if (policy !== 'turn') return this.pushOther(event, policy);
    this.pendingChars += (event.text?.length ?? 0) + (event.reasoning?.length ?? 0);
    if (!this.mergeDelta(event)) this.append(event, false);
    if (this.pendingChars >= MAX_BATCH_CHARS) this.flush();
    else this.waitForTurnEnd();
  }

  flush(): void {
    waiting.delete(this);
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
    waiting.delete(this);
    if (this.windowTimer) clearTimeout(this.windowTimer);
  }

  private pushOther(event: Extract<BattleEvent, { t: 'delta' }>, policy: Exclude<CoalescePolicy, 'turn'>): void {
    if (policy === 'none') return this.append(event, true);
    if (!this.mergeDelta(event)) this.append(event, false);
    this.windowTimer ??= setTimeout(() => ((this.windowTimer = null), this.flush()), policy.windowMs);
  }

  private waitForTurnEnd(): void {
    waiting.add(this);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushWaiting);
  }

  private append(event: BattleEvent, now: boolean): void {
    if (this.pending.length === 0) this.oldestPendingAt = performance.now();
    this.pending.push(event);
    if (now) this.flush();
  }

  /** Only deltas ever wait, so merging into the same side's pending delta keeps every order that matters. */
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
