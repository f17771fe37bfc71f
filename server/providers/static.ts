import { setTimeout as sleep } from 'node:timers/promises';
import { guardStream, type UpstreamContext, type UpstreamPart } from './stream-guard.js';
import type { ChatRequest, Provider, StreamPart, StreamTimeouts } from './types.js';

/**
 * A provider that replays given parts, for tests and demos. It streams through the same guard
 * as the real providers, so timeouts, cancellation and the one-final-part contract hold too.
 * An `error` part is raised as that failure; parts after a finish or an error are never sent.
 */

export interface StaticProviderOptions {
  /** Pause before each part. */
  delayMs?: number;
  timeouts?: StreamTimeouts;
}

const GENEROUS: StreamTimeouts = { connectMs: 60_000, firstTokenMs: 60_000, idleMs: 60_000 };

export function createStaticProvider(
  parts: StreamPart[] | ((req: ChatRequest) => StreamPart[]),
  opts: StaticProviderOptions = {},
): Provider {
  const script = typeof parts === 'function' ? parts : () => parts;
  return {
    kind: 'static',
    stream: (req) => guardStream(req, opts.timeouts ?? GENEROUS, `static ${req.model}`, (ctx) => replay(script(req), opts.delayMs, ctx)),
  };
}

async function* replay(parts: StreamPart[], delayMs: number | undefined, ctx: UpstreamContext): AsyncGenerator<UpstreamPart> {
  ctx.connected();
  for (const part of parts) {
    if (delayMs) await sleep(delayMs, undefined, { signal: ctx.signal });
    if (part.type === 'error') throw part.error;
    yield part;
    if (part.type === 'finish') return;
  }
}
