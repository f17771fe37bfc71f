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
  const aborted = rejectOnAbort(controller.signal);
  let settled = false;
  let terminal: StreamPart;
  try {
    for (;;) {
      const step = await Promise.race([iterator.next(), aborted]);
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
 * Rejects with the signal's reason when it aborts. One per stream, raced against each read:
 * a promise and a listener per token showed up in the token path's profile.
 */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  return aborted;
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
    if (this.phase === 'streaming') {
      this.timer?.refresh();
      return;
    }
    this.phase = 'streaming';
    this.arm(this.timeouts.idleMs, 'idle_timeout', 'stream stalled: no data');
  }

  stop(): void {
    this.phase = 'stopped';
    clearTimeout(this.timer);
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
