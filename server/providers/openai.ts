import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { classifyFailure, codeForHttpStatus } from './classify.js';
import { ProviderError } from './errors.js';
import { retryingStaleSockets } from './stale-socket.js';
import { guardStream, type UpstreamContext, type UpstreamPart } from './stream-guard.js';
import { ThinkTagSplitter } from './think.js';
import { ToolCallAccumulator } from './toolcalls.js';
import { openAIBaseUrl } from './urls.js';
import type { ChatMessage, ChatRequest, FinishReason, Provider, StreamTimeouts, Usage } from './types.js';

/** OpenAI Chat Completions streaming (OpenAI itself, vLLM, any compatible server) via the official SDK. */

export interface OpenAIProviderOptions {
  baseUrl: string;
  apiKey?: string;
  timeouts: StreamTimeouts;
  kind: 'openai' | 'vllm';
}

type Kind = OpenAIProviderOptions['kind'];

export function createOpenAIProvider(opts: OpenAIProviderOptions): Provider {
  const client = new OpenAI({
    baseURL: openAIBaseUrl(opts.baseUrl),
    // Explicit values so the SDK never falls back to OPENAI_* env vars and sends them to a third-party server.
    apiKey: opts.apiKey || 'no-key',
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: opts.timeouts.connectMs,
    logLevel: 'off',
    fetch: retryingStaleSockets(fetch),
  });
  return {
    kind: opts.kind,
    stream: (req) => {
      const label = `${opts.kind} ${req.model}`;
      return guardStream(req, opts.timeouts, label, (ctx) => chat(client, opts.kind, req, ctx, label));
    },
  };
}

async function* chat(client: OpenAI, kind: Kind, req: ChatRequest, ctx: UpstreamContext, label: string): AsyncGenerator<UpstreamPart> {
  try {
    const stream = await client.chat.completions.create(requestBody(kind, req), {
      signal: ctx.signal,
      timeout: ctx.timeouts.connectMs,
    });
    ctx.connected();
    yield* readChunks(stream, label);
  } catch (err) {
    throw fromSdkError(err, label);
  }
}

/** vLLM and DeepSeek-style servers stream reasoning outside `content`, under either name. */
type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null; reasoning?: string | null };

async function* readChunks(stream: AsyncIterable<ChatCompletionChunk>, label: string): AsyncGenerator<UpstreamPart> {
  const think = new ThinkTagSplitter();
  const tools = new ToolCallAccumulator();
  let reason: FinishReason | undefined;
  let usage: Usage = {};
  for await (const chunk of stream) {
    if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const delta = (choice.delta ?? {}) as Delta;
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (reasoning) yield { type: 'reasoning', text: reasoning };
    if (delta.content) for (const part of think.push(delta.content)) yield part;
    for (const call of delta.tool_calls ?? [])
      tools.addFragment({ index: call.index, id: call.id, name: call.function?.name, arguments: call.function?.arguments });
    if (choice.finish_reason) {
      reason = finishReason(choice.finish_reason);
      for (const part of think.flush()) yield part;
      for (const call of tools.drain()) yield { type: 'tool-call', call };
    }
  }
  // The usage chunk follows the finish_reason chunk, so the finish waits for the end of the stream.
  if (!reason) throw new ProviderError('connection_reset', `${label}: stream ended before finish_reason`);
  yield { type: 'finish', reason, usage };
}

const REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

function finishReason(raw: string): FinishReason {
  return REASONS[raw] ?? 'other';
}

function requestBody(kind: Kind, req: ChatRequest) {
  return {
    model: req.model,
    messages: req.messages.map(toOpenAIMessage),
    stream: true as const,
    stream_options: { include_usage: true },
    ...(req.tools?.length && {
      tools: req.tools.map((t) => ({
        type: 'function' as const,
        function: { name: t.name, description: t.description, parameters: t.parameters },
      })),
    }),
    ...(req.temperature !== undefined && { temperature: req.temperature }),
    ...(req.maxTokens !== undefined &&
      (kind === 'openai' ? { max_completion_tokens: req.maxTokens } : { max_tokens: req.maxTokens })),
    // vLLM continues a trailing assistant message (prefill) only when asked to.
    ...(kind === 'vllm' && endsWithAssistant(req.messages) && { continue_final_message: true, add_generation_prompt: false }),
  };
}

function endsWithAssistant(messages: ChatMessage[]): boolean {
  return messages.at(-1)?.role === 'assistant';
}

function toOpenAIMessage(m: ChatMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId ?? '', content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls?.length && {
          tool_calls: m.toolCalls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.rawArguments ?? JSON.stringify(c.arguments) },
          })),
        }),
      };
    default:
      return { role: m.role, content: m.content };
  }
}

function fromSdkError(err: unknown, label: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIConnectionTimeoutError)
    return new ProviderError('connect_timeout', `${label}: no response headers in time`, { cause: err });
  if (err instanceof APIUserAbortError) return new ProviderError('aborted', `${label}: cancelled by the caller`, { cause: err });
  if (err instanceof APIConnectionError) return classifyFailure(err.cause ?? err, label);
  if (err instanceof APIError) {
    const detail = apiErrorDetail(err);
    // No status: the server reported an error inside a 200 stream.
    return err.status
      ? new ProviderError(codeForHttpStatus(err.status), `${label}: HTTP ${err.status}: ${detail}`, { status: err.status, cause: err })
      : new ProviderError('server_error', `${label}: error in stream: ${detail}`, { cause: err });
  }
  return classifyFailure(err, label);
}

function apiErrorDetail(err: APIError): string {
  const message = (err.error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message ? message : err.message;
}
