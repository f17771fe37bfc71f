import { classifyFailure } from './classify.js';
import { ProviderError, type ProviderErrorCode } from './errors.js';
import type { ChatRequest, FinishPart, StreamPart, StreamTimeouts } from './types.js';

/**
 * The one wrapper every provider streams through. It owns what protocols share: the three
 * timeouts, the caller's AbortSignal, closing the upstream request, timing figures, and the
 * contract that a stream never throws and ends with exactly one `finish` or `error` part.
 * Protocol adapters stay simple: they yield content and a finish, and throw on failure.
 */

export type UpstreamFinish = Omit<FinishPart, 'totalMs' | 'ttftMs'>;
export type UpstreamPart = Exclude<StreamPart, FinishPart | { type: 'error' }> | UpstreamFinish;

export interface UpstreamContext {
  /** Aborted on caller cancel, on any timeout, or when the consumer stops reading. */
  signal: AbortSignal;
  /** The effective timeouts (defaults merged with the request's own). */
  timeouts: StreamTimeouts;
  /** The adapter calls this when response headers arrive: ends the connect phase. */
  connected(): void;
}

export type Upstream = (ctx: UpstreamContext) => AsyncIterable<UpstreamPart>;

export async function* guardStream(
  req: ChatRequest,
  defaults: StreamTimeouts,
  label: string,
  upstream: Upstream,
): AsyncGenerator<StreamPart> {
  if (req.signal?.aborted) {
    yield { type: 'error', error: cancelled(label) };
    return;
  }
  const timeouts = { ...defaults, ...req.timeouts };
  const controller = new AbortController();
  const abort = (error: ProviderError) => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  const onCallerAbort = () => abort(cancelled(label));
  req.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const clock = new StreamClock();
  const phases = new PhaseTimer(timeouts, label, abort);
  const context = { signal: controller.signal, timeouts, connected: () => phases.connected() };
  const iterator = upstream(context)[Symbol.asyncIterator]();
  const nextOrAbort = abortableNext(iterator, controller.signal);
  let settled = false;
  let terminal: StreamPart;
  try {
    for (;;) {
      const step = await nextOrAbort();
      if (step.done) {
        terminal = { type: 'error', error: prematureEnd(label) };
        break;
      }
      const part = step.value;
      if (part.type === 'finish') {
        settled = true;
        terminal = clock.stamp(part);
        break;
      }
      phases.content();
      clock.content(part);
      yield part;
    }
  } catch (err) {
    terminal = { type: 'error', error: controller.signal.aborted ? (controller.signal.reason as ProviderError) : classifyFailure(err, label) };
  } finally {
    // Runs before the final part goes out, and also when the consumer stops reading early.
    phases.stop();
    req.signal?.removeEventListener('abort', onCallerAbort);
    if (!settled) abort(new ProviderError('aborted', `${label}: consumer stopped reading`));
    iterator.return?.().catch(() => undefined);
  }
  yield terminal;
}

function cancelled(label: string): ProviderError {
  return new ProviderError('aborted', `${label}: cancelled by the caller`);
}

function prematureEnd(label: string): ProviderError {
  return new ProviderError('connection_reset', `${label}: stream ended before its final message`);
}

/**
 * The iterator's next step, or a rejection with the signal's reason as soon as it aborts (an
 * upstream that ignores the signal must not hold the stream). One abort listener per stream;
 * `Promise.race` per read allocated an array and a promise, and left one reaction per token on a
 * promise that only settles on abort.
 */
function abortableNext<T>(iterator: AsyncIterator<T>, signal: AbortSignal): () => Promise<IteratorResult<T>> {
  let rejectWaiting: ((reason: unknown) => void) | undefined;
  signal.addEventListener('abort', () => rejectWaiting?.(signal.reason), { once: true });
  return () => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const next = iterator.next();
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      rejectWaiting = reject;
      next.then(resolve, reject);
    });
  };
}

type Phase = 'connecting' | 'waiting' | 'streaming' | 'stopped';

/** connect → first token → idle gaps: one deadline at a time, each with its own error code. */
class PhaseTimer {
  private phase: Phase = 'connecting';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeouts: StreamTimeouts,
    private readonly label: string,
    private readonly expire: (error: ProviderError) => void,
  ) {
    this.arm(timeouts.connectMs, 'connect_timeout', 'no response headers');
  }

  connected(): void {
    if (this.phase !== 'connecting') return;
    this.phase = 'waiting';
    this.arm(this.timeouts.firstTokenMs, 'first_token_timeout', 'no first token');
  }

  content(): void {
    // Per part only a timestamp: the idle timer, when it fires, re-arms for what is left of the
    // gap since the last part (resetting a timer per token showed in the token path's profile).
    this.lastContentAt = performance.now();
    if (this.phase === 'streaming') return;
    this.phase = 'streaming';
    this.armIdle(this.timeouts.idleMs);
  }

  stop(): void {
    this.phase = 'stopped';
    clearTimeout(this.timer);
  }

  private lastContentAt = 0;

  private armIdle(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const left = this.lastContentAt + this.timeouts.idleMs - performance.now();
      if (left >= 1) this.armIdle(left);
      else this.expire(new ProviderError('idle_timeout', `${this.label}: stream stalled: no data within ${this.timeouts.idleMs} ms`));
    }, ms);
  }

  private arm(ms: number, code: ProviderErrorCode, what: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.expire(new ProviderError(code, `${this.label}: ${what} within ${ms} ms`)), ms);
  }
}

/** Measures what the backend does not report: time to first token, total time, speed. */
class StreamClock {
  private readonly startedAt = performance.now();
  private firstTokenAt: number | undefined;

  content(part: StreamPart): void {
    if (this.firstTokenAt === undefined && (part.type === 'text' || part.type === 'reasoning'))
      this.firstTokenAt = performance.now();
  }

  stamp(finish: UpstreamFinish): FinishPart {
    const now = performance.now();
    const ttftMs = this.firstTokenAt === undefined ? undefined : Math.round(this.firstTokenAt - this.startedAt);
    return {
      ...finish,
      ttftMs,
      tokensPerSecond: finish.tokensPerSecond ?? this.measuredRate(finish.usage.completionTokens, now),
      totalMs: Math.round(now - this.startedAt),
    };
  }

  /** The first token's latency is not generation time: count the n-1 tokens after it. */
  private measuredRate(tokens: number | undefined, now: number): number | undefined {
    if (tokens === undefined || tokens < 2 || this.firstTokenAt === undefined) return undefined;
    const seconds = (now - this.firstTokenAt) / 1000;
    return seconds > 0 ? (tokens - 1) / seconds : undefined;
  }
}
