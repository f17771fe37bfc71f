import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms` (real timer), rejecting with an AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, { signal });
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
