import type { EventEmitter } from 'node:events';

/** One simulated model, as the backend knows it. Every field but `name` has a default (see models.ts). */
export interface SimModelSpec {
  /** The name the backend knows it by, e.g. 'llama3.1:8b' or 'meta-llama/Llama-3.1-8B-Instruct'. */
  name: string;
  /**
   * Prompt-shaped markdown answers cut at block boundaries (the demo models); default false: prose
   * of exactly `maxTokens` tokens, which timing and failover tests rely on.
   */
  shapedAnswers?: boolean;
  /** Generation speed; default 40. */
  tokensPerSecond?: number;
  /** Time to first token once loaded; default 40. */
  ttftMs?: number;
  /** Cold load time; default 300. */
  loadMs?: number;
  /** Memory when loaded (Ollama /api/ps size & size_vram); default 4000. */
  sizeMb?: number;
  /** vLLM max_model_len, Ollama context_length; default 8192. */
  contextLength?: number;
  /** Default ['completion']. */
  capabilities?: Array<'completion' | 'tools' | 'thinking' | 'vision' | 'router'>;
  /** e.g. 'llama'; also the model's self-identity in answers ("I am llama, ..."). */
  family?: string;
  /**
   * How 'thinking' models emit reasoning: a separate field (Ollama message.thinking, vLLM
   * delta.reasoning_content, Ollama /v1 delta.reasoning) — the default — or `<think>…</think>`
   * at the start of the content ('tags').
   */
  thinkFormat?: 'field' | 'tags';
  /** Answer length cap in tokens; default 60. */
  maxTokens?: number;
}

export type SimFault =
  | { kind: 'none' }
  /** Connection refused: listening socket closed, open sockets destroyed. Always server-wide. */
  | { kind: 'down' }
  /** Health endpoints and chat answer 503. */
  | { kind: 'unhealthy' }
  /** Accept requests, send headers, never send a token. */
  | { kind: 'hang' }
  /** Destroy the socket after N content tokens (connection reset mid-stream). */
  | { kind: 'die_after'; tokens: number }
  /** In-stream error after N content tokens (Ollama {"error"} line; OpenAI data:{"error":{..}}). */
  | { kind: 'error_after'; tokens: number; message?: string }
  /** Tokens/s divided by factor. */
  | { kind: 'slow'; factor: number };

export interface SimOptions {
  /** Which server it pretends to be. */
  flavor: 'ollama' | 'vllm';
  models: SimModelSpec[];
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** When set, /v1/* requires 'Authorization: Bearer <apiKey>' (401 otherwise). */
  apiKey?: string;
  /** ollama: beyond this many in-flight chats -> 503 server busy; vllm: extra requests queue. */
  maxConcurrent?: number;
  /** vllm only: enables /sleep, /wake_up, /is_sleeping. */
  sleepMode?: boolean;
  /** Models start loaded (default true for vllm, false for ollama). */
  preloaded?: boolean;
  /**
   * Benchmarks: every content token is emitted as `⟦<epochMicros>⟧<token>` (see stamp.ts), so a
   * client can measure delivery delay through a relay. Default false.
   */
  stampTokens?: boolean;
}

export interface SimStreamEvent {
  model: string;
  requestId: string;
  at: number;
  reason: 'done' | 'client_closed' | 'fault';
}

export interface SimRequestEvent {
  model: string;
  path: string;
  /** The request body as parsed, so tests can check what a client asked for (e.g. max_tokens). */
  body: unknown;
}

export interface SimState {
  loaded: string[];
  sleeping: boolean;
  /** GPU memory held now, as the backend reports it (Ollama `/api/ps` size_vram; vLLM `vllm:gpu_memory_usage_bytes`). */
  memoryMb: number;
  inFlight: number;
  requests: Record<string, number>;
}

export interface Simulator {
  /** http://HOST:PORT — stays the same across down/up. */
  readonly url: string;
  readonly port: number;
  /**
   * Model omitted = all models (and clears per-model faults). 'down' is always server-wide; a later
   * server-wide fault of another kind listens again on the same port. Emits 'down' / 'up' on
   * `events` once the listener has actually closed / reopened.
   */
  setFault(fault: SimFault, model?: string): void;
  /**
   * 'stream-end' (SimStreamEvent) whenever an admitted chat ends for any reason; 'request'
   * (SimRequestEvent) on each chat request; 'loading' / 'load' / 'unload' ({model}) when a model
   * starts loading, is loaded, leaves memory; 'unload-request' ({model, running}) for each Ollama
   * `keep_alive: 0` and 'sleep-request' ({running}) for each vLLM `/sleep` (running = chats in
   * flight then); 'sleep' / 'wake' once a vLLM engine's weights are off / back on the GPU;
   * 'refused' ({model, status, message}) when a chat is turned away; 'down' / 'up' after listener
   * transitions.
   */
  events: EventEmitter;
  /** Snapshot: loaded models, in-flight streams, request counts per model. */
  state(): SimState;
  /** Stops for good. */
  close(): Promise<void>;
}
