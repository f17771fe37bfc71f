import type { BattleEvent, Side } from '../../src/lib/shared/protocol.js';

/**
 * `arena.pacing: matched`: time to first token and tokens per second tell a GPU from a CPU and a
 * small model from a large one, so both sides' text is released at the slower side's pace. The
 * unit is a streamed chunk (Ollama and vLLM send one token per chunk). For one turn:
 *
 * - While both sides stream, each side may have released as many chunks as the other has
 *   produced: both show the same count, growing at the slower side's pace; neither shows its
 *   first text before the other has produced its first chunk.
 * - A side's `status: streaming` goes out with its first released chunk; its `end` once every
 *   chunk before it is out (a faster side's end waits for its buffer).
 * - Once a side has ended, the other continues at the ended side's average pace (its chunks ÷
 *   the time from the turn's start to its end) or its own, whichever is slower, so a short
 *   answer does not let the longer one rush out and show its speed. A side that ended without
 *   any chunk (an error) paces nothing.
 * - A side the user stopped drops its unreleased chunks: the answer is what was shown.
 *
 * Other events (turn, thinking, loading, resumed, leak, vote) pass in order with their side.
 */

interface SideQueue {
  events: BattleEvent[];
  /** Tokens each held delta carries (a provider may hand over several lines of one read as one part). */
  weights: Map<BattleEvent, number>;
  produced: number;
  released: number;
  endedAt?: number;
}

export interface PacerClock {
  now(): number;
}

const sideOf = (event: BattleEvent): Side | undefined => ('side' in event ? event.side : undefined);
const other = (side: Side): Side => (side === 'left' ? 'right' : 'left');

export class MatchedPacer {
  private readonly queues: Record<Side, SideQueue> = { left: emptyQueue(), right: emptyQueue() };
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly turn: number,
    private readonly forward: (event: BattleEvent) => void,
    /** Called when the last held event went out after the streams had stopped feeding it. */
    private readonly onIdle: () => void = () => {},
    private readonly clock: PacerClock = performance,
  ) {
    this.startedAt = clock.now();
  }

  /** Some event is still held back. */
  get busy(): boolean {
    return this.queues.left.events.length > 0 || this.queues.right.events.length > 0;
  }

  /** `tokens`: how many streamed chunks a delta stands for; pace is counted in them. */
  push(event: BattleEvent, tokens = 1): void {
    const side = sideOf(event);
    if (!side) return this.forward(event);
    const queue = this.queues[side];
    if (event.t === 'delta') {
      queue.produced += tokens;
      if (tokens !== 1) queue.weights.set(event, tokens);
    }
    if (event.t === 'end') {
      queue.endedAt = this.clock.now();
      if (event.status === 'stopped') this.discard(side);
    }
    queue.events.push(event);
    this.release();
  }

  /** Drops a side's unreleased chunks (the user stopped it; what was shown is the answer). */
  discard(side: Side): void {
    const queue = this.queues[side];
    // Also an end it held: the stop that called this replaces it.
    queue.events = queue.events.filter((e) => e.t !== 'delta' && e.t !== 'end' && !(e.t === 'status' && e.status === 'streaming'));
    queue.weights.clear();
    queue.produced = queue.released;
    queue.endedAt ??= this.clock.now();
    this.release();
  }

  /** Stops the timer; queued events are dropped (the turn was superseded). */
  close(): void {
    clearTimeout(this.timer);
    this.queues.left = emptyQueue();
    this.queues.right = emptyQueue();
  }

  private release(): void {
    const wasBusy = this.busy;
    for (const side of ['left', 'right'] as const) this.releaseSide(side);
    this.schedule();
    if (wasBusy && !this.busy) this.onIdle();
  }

  private releaseSide(side: Side): void {
    const queue = this.queues[side];
    while (queue.events.length > 0) {
      const head = queue.events[0]!;
      const carriesText = head.t === 'delta' || (head.t === 'status' && head.status === 'streaming');
      if (carriesText && queue.released >= this.allowance(side)) return;
      if (head.t === 'delta') {
        queue.released += queue.weights.get(head) ?? 1;
        queue.weights.delete(head);
      }
      queue.events.shift();
      this.forward(head);
    }
  }

  /** How many chunks `side` may have released by now. */
  private allowance(side: Side): number {
    const peer = this.queues[other(side)];
    if (peer.endedAt === undefined) return peer.produced;
    if (peer.produced === 0) return Infinity;
    const perMs = peer.produced / Math.max(1, peer.endedAt - this.startedAt);
    return peer.produced + Math.floor(perMs * (this.clock.now() - peer.endedAt) + 1e-9);
  }

  /** Wakes up when a side held back only by an ended peer's pace may release its next chunk. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let wait = Infinity;
    for (const side of ['left', 'right'] as const) {
      const queue = this.queues[side];
      const peer = this.queues[other(side)];
      if (queue.events.length === 0 || peer.endedAt === undefined || peer.produced === 0) continue;
      const perMs = peer.produced / Math.max(1, peer.endedAt - this.startedAt);
      const due = peer.endedAt + (queue.released + 1 - peer.produced) / perMs;
      wait = Math.min(wait, Math.max(0, due - this.clock.now()));
    }
    if (wait === Infinity) return;
    this.timer = setTimeout(() => this.release(), Math.ceil(wait));
    this.timer.unref();
  }
}

function emptyQueue(): SideQueue {
  return { events: [], weights: new Map(), produced: 0, released: 0 };
}
