import { httpError } from './classify.js';
import { ProviderError } from './errors.js';
import { postStreaming } from './http-stream.js';
import { guardStream, type UpstreamContext, type UpstreamFinish, type UpstreamPart } from './stream-guard.js';
import { ThinkTagSplitter } from './think.js';
import { ToolCallAccumulator } from './toolcalls.js';
import { endpointUrl } from './urls.js';
import type { ChatMessage, ChatRequest, FinishReason, Provider, StreamTimeouts } from './types.js';

/** Ollama's native `POST /api/chat`, streamed as NDJSON. */

export interface OllamaProviderOptions {
  baseUrl: string;
  timeouts: StreamTimeouts;
  /** For an Ollama behind an authenticating proxy; sent as a bearer token. */
  apiKey?: string;
}

export function createOllamaProvider(opts: OllamaProviderOptions): Provider {
  const endpoint = new URL(endpointUrl(opts.baseUrl, '/api/chat'));
  const headers = {
    'content-type': 'application/json',
    accept: 'application/x-ndjson',
    ...(opts.apiKey && { authorization: `Bearer ${opts.apiKey}` }),
  };
  // Ollama sends no response headers until the model is loaded and has produced its first
  // token, so the header wait must allow a cold load: it gets the first-token budget.
  const timeouts = { ...opts.timeouts, connectMs: Math.max(opts.timeouts.connectMs, opts.timeouts.firstTokenMs) };
  return {
    kind: 'ollama',
    stream: (req) => guardStream(req, timeouts, `ollama ${req.model}`, (ctx) => chat(endpoint, headers, req, ctx)),
  };
}

async function* chat(endpoint: URL, headers: Record<string, string>, req: ChatRequest, ctx: UpstreamContext): AsyncGenerator<UpstreamPart> {
  const res = await postStreaming(endpoint, { headers, body: JSON.stringify(requestBody(req)), signal: ctx.signal });
  ctx.connected();
  if (res.status < 200 || res.status > 299) throw await httpError(res, `ollama ${req.model}`);

  const think = new ThinkTagSplitter();
  const tools = new ToolCallAccumulator();
  const merged = new MergedContent(think);
  let calledTools = false;
  const reader = res.lines();
  let complete = false;
  try {
    for (let lines = await reader.next(); lines; lines = await reader.next()) {
      // The lines of one network read go out as one part per kind, in their order.
      for (const line of lines) {
        const chunk = parseLine(line, req.model);
        if (chunk.error !== undefined) {
          for (const part of merged.take()) yield part;
          throw new ProviderError('server_error', `ollama ${req.model}: ${String(chunk.error)}`);
        }
        const message = chunk.message ?? {};
        if (message.thinking) for (const part of merged.add('reasoning', message.thinking)) yield part;
        if (message.content) for (const part of merged.add('content', message.content)) yield part;
        for (const call of message.tool_calls ?? []) {
          calledTools = true;
          for (const part of merged.take()) yield part;
          yield { type: 'tool-call', call: tools.complete({ id: call.id, name: call.function.name, arguments: call.function.arguments }) };
        }
        if (chunk.done) {
          complete = true;
          for (const part of merged.take()) yield part;
          for (const part of think.flush()) yield part;
          yield finishPart(chunk, calledTools);
          return;
        }
      }
      for (const part of merged.take()) yield part;
    }
  } finally {
    reader.close(complete);
  }
}

/** Read-only: what `add` returns for a chunk that lets nothing out (most of them). */
const NOTHING: UpstreamPart[] = [];

/**
 * Consecutive chunks of the same kind, merged until `take`. Each part says how many upstream
 * chunks it holds (`tokens`), so token counts stay exact while the parts are fewer.
 */
class MergedContent {
  private kind: 'reasoning' | 'content' | null = null;
  private text = '';
  private count = 0;

  constructor(private readonly think: ThinkTagSplitter) {}

  /** Adds a chunk; returns the parts of the other kind it had to let out first (keeps the order). */
  add(kind: 'reasoning' | 'content', text: string): UpstreamPart[] {
    const out = this.kind && this.kind !== kind ? this.take() : NOTHING;
    this.kind = kind;
    this.text += text;
    this.count++;
    return out;
  }

  take(): UpstreamPart[] {
    if (!this.kind) return [];
    const parts: UpstreamPart[] =
      this.kind === 'reasoning' ? [{ type: 'reasoning', text: this.text }] : this.think.push(this.text);
    // The chunks count once, on the last part they produced (a held-back tag tail produces none yet).
    const last = parts.at(-1) as { tokens?: number } | undefined;
    if (last && this.count > 1) last.tokens = this.count;
    this.kind = null;
    this.text = '';
    this.count = 0;
    return parts;
  }
}

interface OllamaChunk {
  message?: {
    content?: string;
    thinking?: string;
    tool_calls?: Array<{ id?: string; function: { name: string; arguments: unknown } }>;
  };
  done?: boolean;
  done_reason?: string;
  error?: unknown;
  load_duration?: number;
  prompt_eval_count?: number;
  eval_count?: number;
  eval_duration?: number;
}

function parseLine(line: string, model: string): OllamaChunk {
  try {
    const chunk: unknown = JSON.parse(line);
    if (chunk && typeof chunk === 'object') return chunk as OllamaChunk;
  } catch {
    // reported below
  }
  throw new ProviderError('malformed', `ollama ${model}: unparseable line ${JSON.stringify(line.slice(0, 80))}`);
}

const REASONS: Record<string, FinishReason> = { stop: 'stop', length: 'length', load: 'load', unload: 'unload' };

function finishPart(chunk: OllamaChunk, calledTools: boolean): UpstreamFinish {
  const reason = REASONS[chunk.done_reason ?? 'stop'] ?? 'other';
  const { eval_count: evalCount, eval_duration: evalNs, load_duration: loadNs } = chunk;
  return {
    type: 'finish',
    // Ollama says `stop` after tool calls; callers branch on `tool_calls` like on OpenAI.
    reason: calledTools && reason === 'stop' ? 'tool_calls' : reason,
    usage: { promptTokens: chunk.prompt_eval_count, completionTokens: evalCount },
    tokensPerSecond: evalCount && evalNs ? (evalCount / evalNs) * 1e9 : undefined,
    loadMs: loadNs === undefined ? undefined : loadNs / 1e6,
  };
}

function requestBody(req: ChatRequest): Record<string, unknown> {
  const options: Record<string, unknown> = { ...req.options };
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
  return {
    model: req.model,
    messages: req.messages.map(toOllamaMessage),
    stream: true,
    ...(req.tools?.length && {
      tools: req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
    }),
    ...(Object.keys(options).length > 0 && { options }),
    ...(req.keepAlive !== undefined && { keep_alive: req.keepAlive }),
  };
}

function toOllamaMessage(m: ChatMessage): Record<string, unknown> {
  return {
    role: m.role,
    content: m.content,
    ...(m.toolCalls?.length && { tool_calls: m.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) }),
    ...(m.toolName && { tool_name: m.toolName }),
  };
}
