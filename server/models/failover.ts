import type { Logger } from '../infra/log.js';
import { ProviderError } from '../providers/errors.js';
import type { ChatMessage, ChatRequest, Provider, StreamPart } from '../providers/types.js';

/**
 * Streams one answer across a model's deployments. A retryable failure before the first token
 * moves to the next deployment unseen; one mid-stream continues there with the text so far as
 * an assistant prefill, so the concatenated text stays one continuous answer.
 */

export interface RoutePart {
  type: 'route';
  /** `${backendId}/${model}` */
  deployment: string;
  /** 1 for the first deployment tried. */
  attempt: number;
  /** True when this deployment continues an answer another one started. */
  resumed: boolean;
}

/** The deployment must load its model (or wake its engine) first: the answer starts late. */
export interface LoadingPart {
  type: 'loading';
  deployment: string;
}

export type RoutedPart = StreamPart | RoutePart | LoadingPart;

export interface RouteTarget {
  deployment: string;
  model: string;
  provider: Provider;
}

/**
 * How an attempt on one deployment ended; `prepare` failures happened before any request was sent.
 * A served attempt carries its speed, so health can count a too-slow answer as a failure.
 */
export type AttemptOutcome =
  | { ok: true; tokens?: number; tokensPerSecond?: number }
  | { ok: false; phase: 'prepare' | 'stream'; error: ProviderError };

/** What health and the swap manager hook into around every attempt. */
export interface AttemptHooks {
  /** Makes the deployment ready (model load, engine wake-up); undefined when it already is. */
  prepare(deployment: string, signal?: AbortSignal): Promise<void> | undefined;
  /** An attempt starts; the returned function is called once with its outcome. */
  begin(deployment: string): (outcome: AttemptOutcome) => void;
  /** A request arrives that these deployments (in routing order) could serve: demand, wherever it is served. */
  request?(deployments: string[]): void;
  /**
   * Before `prepare`: confirms with the backend that a deployment believed ready still is (a vLLM
   * engine put to sleep outside Arena); undefined when the view is fresh enough.
   */
  check?(deployment: string, signal?: AbortSignal): Promise<void> | undefined;
  /** The first token came this long after the request was sent to a ready deployment. */
  firstToken?(deployment: string, ms: number): void;
}

export const NO_HOOKS: AttemptHooks = { prepare: () => undefined, begin: () => () => {} };

/** The consumer stopped reading: neither a success nor the deployment's fault. */
const ABANDONED = new ProviderError('aborted', 'the caller stopped reading');

export async function* streamWithFailover(
  targets: RouteTarget[],
  req: Omit<ChatRequest, 'model'>,
  log: Logger,
  hooks: AttemptHooks = NO_HOOKS,
): AsyncGenerator<RoutedPart> {
  const progress: Progress = { partial: '', streamed: false, calledTool: false, tokens: 0 };
  let failure: ProviderError | undefined;
  hooks.request?.(targets.map((t) => t.deployment));
  for (const [index, target] of targets.entries()) {
    yield { type: 'route', deployment: target.deployment, attempt: index + 1, resumed: progress.streamed };
    const finish = hooks.begin(target.deployment);
    let outcome: AttemptOutcome = { ok: false, phase: 'stream', error: ABANDONED };
    try {
      await hooks.check?.(target.deployment, req.signal)?.catch(() => {});
      const ready = hooks.prepare(target.deployment, req.signal);
      const notReady = ready ? yield* waitUntilReady(target, ready) : undefined;
      const failed = notReady ? undefined : yield* streamFrom(target, req, progress, hooks);
      if (notReady) outcome = { ok: false, phase: 'prepare', error: notReady };
      else outcome = failed ? { ok: false, phase: 'stream', error: failed } : { ok: true, ...progress.speed };
    } finally {
      // A consumer may stop reading once it has the finish part: that attempt was still served.
      finish(progress.speed && !outcome.ok && outcome.error === ABANDONED ? { ok: true, ...progress.speed } : outcome);
    }
    if (outcome.ok) return;
    failure = outcome.error;
    const next = targets[index + 1];
    if (!next || !canFailOver(failure, progress.calledTool)) break;
    log.warn(
      { deployment: target.deployment, next: next.deployment, code: failure.code, resumed: progress.streamed, err: failure.message },
      'deployment failed, trying the next one',
    );
  }
  yield { type: 'error', error: failure ?? new ProviderError('model_not_found', 'no deployment can serve this model') };
}

/** What the answer holds so far, across deployments. */
interface Progress {
  partial: string;
  streamed: boolean;
  calledTool: boolean;
  /** Content parts received so far, across deployments: each streamed chunk carries one token. */
  tokens: number;
  /** Set once the current attempt's finish part arrived: its figures. */
  speed?: { tokens?: number; tokensPerSecond?: number };
}

/** Tells the caller a load is under way, then waits for it; returns why it failed, if it did. */
async function* waitUntilReady(target: RouteTarget, ready: Promise<void>): AsyncGenerator<RoutedPart, ProviderError | undefined> {
  yield { type: 'loading', deployment: target.deployment };
  return ready.then(() => undefined, asProviderError);
}

/** One deployment's stream, resuming after `progress`; returns its failure, if any. */
async function* streamFrom(
  target: RouteTarget,
  req: Omit<ChatRequest, 'model'>,
  progress: Progress,
  hooks: AttemptHooks,
): AsyncGenerator<RoutedPart, ProviderError | undefined> {
  const messages = progress.partial ? withPartialAnswer(req.messages, progress.partial) : req.messages;
  const maxTokens = remainingTokens(req.maxTokens, progress.tokens);
  const tokensBefore = progress.tokens;
  progress.speed = undefined;
  const sentAt = performance.now();
  let first = true;
  for await (const part of target.provider.stream({ ...req, model: target.model, messages, maxTokens })) {
    if (part.type === 'error') return part.error;
    if (first && (part.type === 'text' || part.type === 'reasoning' || part.type === 'tool-call')) {
      first = false;
      hooks.firstToken?.(target.deployment, performance.now() - sentAt);
    }
    if (part.type === 'finish') progress.speed = { tokens: part.usage.completionTokens ?? progress.tokens - tokensBefore, tokensPerSecond: part.tokensPerSecond };
    // A part may hold several upstream chunks (one network read's worth of Ollama lines).
    if (part.type === 'text' || part.type === 'reasoning') progress.tokens += part.tokens ?? 1;
    if (part.type === 'text') progress.partial += part.text;
    if (part.type === 'tool-call') progress.calledTool = true;
    if (part.type !== 'finish') progress.streamed = true;
    yield part;
  }
  return undefined;
}

/**
 * A continuation asks only for what the answer may still grow by. Tokens are counted as content
 * chunks (Ollama and vLLM stream one token per chunk); at least one is always asked for.
 */
function remainingTokens(maxTokens: number | undefined, produced: number): number | undefined {
  if (maxTokens === undefined || produced === 0) return maxTokens;
  return Math.max(1, maxTokens - produced);
}

/** A tool call already handed to the caller cannot be taken back, so no resume after one. */
function canFailOver(error: ProviderError, calledTool: boolean): boolean {
  return error.retryable && !calledTool;
}

function asProviderError(err: unknown): ProviderError {
  return err instanceof ProviderError ? err : new ProviderError('server_error', String((err as Error)?.message ?? err), { cause: err });
}

/** The text so far becomes (or extends) a trailing assistant message the next backend continues. */
function withPartialAnswer(messages: ChatMessage[], partial: string): ChatMessage[] {
  const last = messages.at(-1);
  if (last?.role === 'assistant') return [...messages.slice(0, -1), { ...last, content: last.content + partial }];
  return [...messages, { role: 'assistant', content: partial }];
}
