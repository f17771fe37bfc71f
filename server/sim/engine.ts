import { EventEmitter } from 'node:events';
import { Admission } from './admission.js';
import { FaultBoard } from './faults.js';
import { DEFAULT_KEEP_ALIVE_MS } from './keep-alive.js';
import { resolveModel, type SimModel } from './models.js';
import { Residency } from './residency.js';
import { SleepMode } from './sleep-mode.js';
import type { SimOptions, SimRequestEvent, SimState, SimStreamEvent } from './types.js';

/** What the engine needs to know about a chat in progress. */
export interface ActiveChat {
  readonly model: SimModel;
  readonly promptTokens: number;
  readonly emitted: number;
  /** Ends the chat from the server side (the backend went down). */
  abort(): void;
}

/** The simulated backend's state, independent of HTTP: models, memory, queue, faults, sleep. */
export class SimEngine {
  readonly events = new EventEmitter();
  readonly models: ReadonlyMap<string, SimModel>;
  readonly faults = new FaultBoard();
  readonly residency: Residency;
  readonly admission: Admission;
  readonly sleepMode: SleepMode;
  /** How long a model stays loaded after a chat that names no keep_alive (vLLM: forever). */
  readonly defaultKeepAliveMs: number;
  private readonly chats = new Set<ActiveChat>();
  private readonly requestCounts: Record<string, number> = {};

  constructor(readonly options: SimOptions) {
    this.models = new Map(options.models.map((spec) => [spec.name, resolveModel(spec)]));
    const isVllm = options.flavor === 'vllm';
    this.defaultKeepAliveMs = isVllm ? Infinity : DEFAULT_KEEP_ALIVE_MS;
    this.residency = new Residency(this.defaultKeepAliveMs, (change, model) => this.events.emit(change, { model }));
    this.admission = new Admission(isVllm ? (options.maxConcurrent ?? Infinity) : Infinity);
    this.sleepMode = new SleepMode(Math.max(0, ...[...this.models.values()].map((model) => model.loadMs)), (change) => this.events.emit(change, {}));
    if (options.preloaded ?? isVllm) for (const name of this.models.keys()) this.residency.markLoaded(name);
  }

  get flavor(): SimOptions['flavor'] {
    return this.options.flavor;
  }

  noteRequest(model: string, path: string, body: unknown): void {
    this.requestCounts[model] = (this.requestCounts[model] ?? 0) + 1;
    const event: SimRequestEvent = { model, path, body };
    this.events.emit('request', event);
  }

  /** Ollama answers 503 instead of queueing once maxConcurrent chats are in flight. */
  get rejectsNewChats(): boolean {
    const limit = this.options.maxConcurrent;
    return this.flavor === 'ollama' && limit !== undefined && this.chats.size >= limit;
  }

  track(chat: ActiveChat): void {
    this.chats.add(chat);
  }

  untrack(chat: ActiveChat, event: SimStreamEvent): void {
    if (this.chats.delete(chat)) this.events.emit('stream-end', event);
  }

  /** GPU memory the backend holds now (MiB): Ollama's models in memory (loading ones too); a vLLM engine's weights unless asleep. */
  memoryMb(): number {
    const names = this.flavor === 'vllm' ? (this.sleepMode.holdsMemory ? [...this.models.keys()] : []) : this.residency.inMemoryNames();
    return names.reduce((sum, name) => sum + this.models.get(name)!.sizeMb, 0);
  }

  chatsOf(model: string): ActiveChat[] {
    return [...this.chats].filter((chat) => chat.model.name === model);
  }

  abortAll(): void {
    for (const chat of [...this.chats]) chat.abort();
  }

  state(): SimState {
    return {
      loaded: this.residency.loadedNames(),
      sleeping: this.sleepMode.sleeping,
      memoryMb: this.memoryMb(),
      inFlight: this.chats.size,
      requests: { ...this.requestCounts },
    };
  }

  close(): void {
    this.abortAll();
    this.residency.close();
  }
}
