/**
 * A circuit breaker for one deployment, fed by probes and real requests. It trips at once on a
 * hard failure (connection refused, 503) or after `openAfter` soft ones in a row (timeouts,
 * resets, death mid-stream, too slow), and closes only after `closeAfter` good probes in a row
 * once its cool-down has passed, so a backend that flaps keeps its traffic elsewhere.
 *
 * A probe only proves the server answers a cheap GET; a backend can pass it while every chat
 * request hangs. So a good probe never clears the failure streak of a closed breaker (only a
 * served request does), and after closing the breaker is on probation: the first failed request
 * before a served one trips it again, with a doubled cool-down (capped at MAX_BACKOFF times).
 * Cockatiel's breakers reopen by letting one trial request through after a timer; here only
 * probes may close it, so no user request is spent testing a backend that may still be down.
 */

/** `hard`: the backend is certainly unable to serve (refused, 503); `soft`: it may be a blip. */
export type FailureSeverity = 'hard' | 'soft';

export interface BreakerOptions {
  openAfter: number;
  closeAfter: number;
  /** Minimum time open (from the last failure) before good probes may close it. */
  coolDownMs?: number;
  /** Clock in ms; Date.now so tests can use fake timers. */
  now?: () => number;
}

export type BreakerState = 'closed' | 'open';

/** A breaker that keeps reopening right after closing waits at most this many cool-downs. */
const MAX_BACKOFF = 16;

export class Breaker {
  private open = false;
  private failuresInARow = 0;
  private goodProbesInARow = 0;
  private lastFailureAt = 0;
  private backoff = 1;
  /** Closed by probes, no request served since: one failure reopens it. */
  private probation = false;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.open ? 'open' : 'closed';
  }

  /** While open: good probes so far towards closing. */
  get recovery(): { good: number; needed: number } {
    return { good: this.goodProbesInARow, needed: this.opts.closeAfter };
  }

  /** The current cool-down (grows while the breaker keeps reopening on probation). */
  get coolDownMs(): number {
    return (this.opts.coolDownMs ?? 0) * this.backoff;
  }

  /** Probation concerns requests: a failed probe counts as before (a flapping server is the hysteresis' job). */
  failure(severity: FailureSeverity, source: 'request' | 'probe' = 'request'): void {
    this.goodProbesInARow = 0;
    this.failuresInARow++;
    this.lastFailureAt = this.now();
    if (this.open) return;
    const reopensOnProbation = this.probation && source === 'request';
    if (reopensOnProbation) this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
    if (severity === 'hard' || reopensOnProbation || this.failuresInARow >= this.opts.openAfter) this.trip();
  }

  /** A request served: clears the failure streak and probation, but never closes an open breaker. */
  requestSucceeded(): void {
    if (this.open) return;
    this.failuresInARow = 0;
    this.probation = false;
    this.backoff = 1;
  }

  /** A failed probe of the backend: recovery starts over. */
  badProbe(): void {
    this.goodProbesInARow = 0;
  }

  /** Counts towards closing an open breaker; says nothing about requests, so a closed one ignores it. */
  goodProbe(): void {
    if (!this.open) return;
    this.goodProbesInARow++;
    const cooledDown = this.now() - this.lastFailureAt >= this.coolDownMs;
    if (this.goodProbesInARow < this.opts.closeAfter || !cooledDown) return;
    this.open = false;
    this.probation = true;
    this.failuresInARow = 0;
    this.goodProbesInARow = 0;
  }

  private trip(): void {
    this.open = true;
    this.probation = false;
  }
}
