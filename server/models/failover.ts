import type { Logger } from '../log.js';
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

export type RoutedPart = StreamPart | RoutePart;

export interface RouteTarget {
  deployment: string;
  model: string;
  provider: Provider;
}

export async function* streamWithFailover(
  targets: RouteTarget[],
  req: Omit<ChatRequest, 'model'>,
  log: Logger,
): AsyncGenerator<RoutedPart> {
  let partial = '';
  let streamed = false;
  let calledTool = false;
  let failure: ProviderError = new ProviderError('model_not_found', 'no deployment can serve this model');
  for (const [index, target] of targets.entries()) {
    yield { type: 'route', deployment: target.deployment, attempt: index + 1, resumed: streamed };
    const messages = partial ? withPartialAnswer(req.messages, partial) : req.messages;
    let failed: ProviderError | undefined;
    for await (const part of target.provider.stream({ ...req, model: target.model, messages })) {
      if (part.type === 'error') {
        failed = part.error;
        break;
      }
      if (part.type === 'text') partial += part.text;
      if (part.type === 'tool-call') calledTool = true;
      if (part.type !== 'finish') streamed = true;
      yield part;
    }
    if (!failed) return;
    failure = failed;
    const next = targets[index + 1];
    if (!next || !canFailOver(failed, calledTool)) break;
    log.warn({ deployment: target.deployment, next: next.deployment, code: failed.code, resumed: streamed, err: failed.message }, 'deployment failed, trying the next one');
  }
  yield { type: 'error', error: failure };
}

/** A tool call already handed to the caller cannot be taken back, so no resume after one. */
function canFailOver(error: ProviderError, calledTool: boolean): boolean {
  return error.retryable && !calledTool;
}

/** The text so far becomes (or extends) a trailing assistant message the next backend continues. */
function withPartialAnswer(messages: ChatMessage[], partial: string): ChatMessage[] {
  const last = messages.at(-1);
  if (last?.role === 'assistant') return [...messages.slice(0, -1), { ...last, content: last.content + partial }];
  return [...messages, { role: 'assistant', content: partial }];
}
