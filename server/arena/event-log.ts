import type { BattleEvent, SeqEvent } from '../../src/lib/shared/protocol.js';

/**
 * One battle's ordered event log. Deltas arriving within `coalesceMs` of each other merge into
 * one event (one frame instead of dozens); every other event flushes at once, so ends and votes
 * are never delayed. Sequence numbers are assigned at flush, which is when an event becomes real:
 * the record is updated and the frame broadcast in the same step, so a view and its `seq` agree.
 */
export class BattleEventLog {
  private pending: BattleEvent[] = [];
  private oldestPendingAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly log: SeqEvent[] = [];
  /** Events before this seq are not held here (log rehydrated from the store). */
  private readonly firstSeq: number;
  seq: number;

  constructor(
    startSeq: number,
    private readonly coalesceMs: number,
    private readonly onFlush: (events: SeqEvent[], oldestPendingAt: number) => void,
  ) {
    this.seq = startSeq;
    this.firstSeq = startSeq + 1;
  }

  push(event: BattleEvent): void {
    if (event.t === 'delta' && this.mergeDelta(event)) return;
    if (this.pending.length === 0) this.oldestPendingAt = performance.now();
    this.pending.push(event);
    if (event.t !== 'delta' || this.coalesceMs <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    // Stamp in place: a copy per event ({...e, seq}) gave every event its own hidden class.
    const events = this.pending as SeqEvent[];
    for (const e of events) e.seq = ++this.seq;
    this.pending = [];
    this.log.push(...events);
    this.onFlush(events, this.oldestPendingAt);
  }

  /** Events after `seq`, or null when some of them are no longer held (caller sends a full view). */
  after(seq: number): SeqEvent[] | null {
    if (seq >= this.seq) return [];
    if (seq + 1 < this.firstSeq) return null;
    return this.log.slice(seq + 1 - this.firstSeq);
  }

  private mergeDelta(event: Extract<BattleEvent, { t: 'delta' }>): boolean {
    const last = this.pending.at(-1);
    if (!last || last.t !== 'delta' || last.side !== event.side || last.turn !== event.turn) return false;
    if (event.text) last.text = (last.text ?? '') + event.text;
    if (event.reasoning) last.reasoning = (last.reasoning ?? '') + event.reasoning;
    return true;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
