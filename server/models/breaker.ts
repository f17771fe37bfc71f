/**
 * A circuit breaker for one deployment, fed by probes and real requests. It trips at once on a
 * hard failure (connection refused, 503) or after `openAfter` soft ones in a row, and closes only
 * after `closeAfter` good probes in a row, so a backend that flaps keeps its traffic elsewhere.
 * Cockatiel's breakers reopen by letting one trial request through after a timer; here only
 * probes may close it, so no user request is spent testing a backend that may still be down.
 */

/** `hard`: the backend is certainly unable to serve (refused, 503); `soft`: it may be a blip. */
export type FailureSeverity = 'hard' | 'soft';

export interface BreakerOptions {
  openAfter: number;
  closeAfter: number;
}

export type BreakerState = 'closed' | 'open';

export class Breaker {
  private open = false;
  private failuresInARow = 0;
  private goodProbesInARow = 0;

  constructor(private readonly opts: BreakerOptions) {}

  get state(): BreakerState {
    return this.open ? 'open' : 'closed';
  }

  /** While open: good probes so far towards closing. */
  get recovery(): { good: number; needed: number } {
    return { good: this.goodProbesInARow, needed: this.opts.closeAfter };
  }

  failure(severity: FailureSeverity): void {
    this.goodProbesInARow = 0;
    this.failuresInARow++;
    if (severity === 'hard' || this.failuresInARow >= this.opts.openAfter) this.open = true;
  }

  /** A request served: clears the failure streak, but never closes an open breaker. */
  requestSucceeded(): void {
    if (!this.open) this.failuresInARow = 0;
  }

  /** A failed probe of the backend: recovery starts over. */
  badProbe(): void {
    this.goodProbesInARow = 0;
  }

  goodProbe(): void {
    if (!this.open) {
      this.failuresInARow = 0;
      return;
    }
    this.goodProbesInARow++;
    if (this.goodProbesInARow < this.opts.closeAfter) return;
    this.open = false;
    this.failuresInARow = 0;
    this.goodProbesInARow = 0;
  }
}
