/**
 * The one interface every model backend implements. A provider turns a chat request into an
 * async stream of protocol-free parts; nothing above this layer knows about NDJSON or SSE.
 */

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  role: Role;
  content: string;
  /** Assistant turn that called tools. */
  toolCalls?: ToolCall[];
  /** For role 'tool': which call this answers. */
  toolCallId?: string;
  /** For role 'tool': the tool's name (Ollama wants it). */
  toolName?: string;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed arguments; `argumentsError` is set when the model sent text that is not a JSON object. */
  arguments: Record<string, unknown>;
  argumentsError?: string;
  rawArguments?: string;
}

export interface Usage {
  promptTokens?: number;
  completionTokens?: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'load' | 'unload' | 'other';

export interface FinishPart {
  type: 'finish';
  reason: FinishReason;
  usage: Usage;
  /** Milliseconds from request start to the first text or reasoning delta. */
  ttftMs?: number;
  /** Generation speed, as reported by the backend when it can (Ollama), else measured. */
  tokensPerSecond?: number;
  /** Model load time reported by the backend (Ollama load_duration). */
  loadMs?: number;
  totalMs: number;
}

export type StreamPart =
  /** `tokens`: upstream chunks merged into this part (one network read's worth); 1 when absent. */
  | { type: 'text'; text: string; tokens?: number }
  | { type: 'reasoning'; text: string; tokens?: number }
  | { type: 'tool-call'; call: ToolCall }
  | FinishPart
  | { type: 'error'; error: import('./errors.js').ProviderError };

export interface ChatRequest {
  /** The backend's own model name (e.g. `llama3.1:8b` or `meta-llama/Llama-3.1-8B-Instruct`). */
  model: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  maxTokens?: number;
  temperature?: number;
  /** Ollama only: passes through as `keep_alive`. */
  keepAlive?: string | number;
  /** Ollama only: passes through as `options`. */
  options?: Record<string, unknown>;
  signal?: AbortSignal;
  timeouts?: Partial<StreamTimeouts>;
}

export interface StreamTimeouts {
  /** Until response headers arrive. */
  connectMs: number;
  /** Until the first text/reasoning/tool part. */
  firstTokenMs: number;
  /** Longest gap between two parts once streaming. */
  idleMs: number;
}

export interface Provider {
  readonly kind: 'ollama' | 'openai' | 'vllm' | 'static';
  /**
   * Streams one answer. Never throws and never rejects: every failure arrives as a final
   * `error` part; a successful stream ends with exactly one `finish` part.
   */
  stream(req: ChatRequest): AsyncIterable<StreamPart>;
}
