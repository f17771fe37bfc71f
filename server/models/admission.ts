/**
 * Whether a request should wait for its GPU unit to load, or be served by the next deployment
 * (typically the CPU) while the load happens in the background. Waiting pays off only when the
 * load plus whatever is ahead of it plus the GPU's own first token comes sooner than the
 * fallback's first token; and a unit replaces resident ones only when it is clearly worth more
 * than they are (hysteresis), so two units of similar usage do not take turns.
 */

export interface WaitEstimate {
  /** Expected time to bring the unit in (measured, else estimated from its size). */
  loadMs: number;
  /** Loads and unloads on the same GPU that run before it. */
  queueMs: number;
  /** The GPU deployment's first token once loaded (0 until measured). */
  gpuTtftMs: number;
  /** The fallback's expected first token; undefined until measured: serve from it and learn. */
  fallbackTtftMs: number | undefined;
}

export function waitingBeatsFallback(e: WaitEstimate): boolean {
  if (e.fallbackTtftMs === undefined) return false;
  return e.loadMs + e.queueMs + e.gpuTtftMs < e.fallbackTtftMs;
}

/** A unit scoring `incoming` may push out one scoring `resident` only with this much margin. */
export function worthReplacing(incoming: number, resident: number, hysteresis: number): boolean {
  return incoming > 0 && resident * hysteresis < incoming;
}

/** Exponentially weighted moving average of a latency; undefined until the first sample. */
export class Ewma {
  private value: number | undefined;

  constructor(private readonly weight = 0.2) {}

  add(sample: number): void {
    this.value = this.value === undefined ? sample : this.value + this.weight * (sample - this.value);
  }

  get(): number | undefined {
    return this.value;
  }
}
