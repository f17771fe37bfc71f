import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms` (real timer), rejecting with an AbortError as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, { signal });
}

/**
 * Waits until performance.now() reaches `deadline`. Node timers count from a cached loop time and
 * may fire a little early, so it re-arms until the deadline has really passed; a deadline already
 * past returns without yielding.
 */
export async function sleepUntil(deadline: number, signal: AbortSignal): Promise<void> {
  for (let wait = deadline - performance.now(); wait > 0; wait = deadline - performance.now()) await sleep(wait, signal);
}

/** Never resolves; rejects with an AbortError when `signal` aborts (a hung backend). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** Races a shared promise against the caller's own abort signal, without cancelling the promise. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([promise, untilAborted(signal)]);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Node caps timers at 2^31-1 ms; anything longer is "never" for a simulator. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
