import { setTimeout as delay } from 'node:timers/promises';
import type { SimModel } from './models.js';
import { abortable, MAX_TIMER_MS } from './timing.js';

interface Resident {
  expiresAt: number;
  /** Chats using the model right now; the keep_alive countdown starts when the last one ends. */
  holds: number;
  /** The last request's keep_alive wins, as Ollama's per-runner session duration does. */
  keepAliveMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * Which models are in memory, loading them on demand and unloading them when keep_alive expires.
 * Like Ollama: an unload (`keep_alive: 0`) of a model with chats running is held back until the
 * last one ends (a chat arriving meanwhile sets its own keep_alive again), and a model being
 * loaded already holds its memory.
 */
export class Residency {
  private readonly residents = new Map<string, Resident>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly closing = new AbortController();

  constructor(
    private readonly defaultKeepAliveMs: number,
    private readonly onChange: (change: 'load' | 'unload' | 'loading', model: string) => void,
  ) {}

  loadedNames(): string[] {
    return [...this.residents.keys()];
  }

  /** What holds memory: loaded models and those being loaded (Ollama's `/api/ps` lists both). */
  inMemoryNames(): string[] {
    return [...new Set([...this.residents.keys(), ...this.loading.keys()])];
  }

  isLoading(name: string): boolean {
    return this.loading.has(name);
  }

  expiresAt(name: string): number | undefined {
    return this.residents.get(name)?.expiresAt;
  }

  /** Chats running on the model. */
  holdsOf(name: string): number {
    return this.residents.get(name)?.holds ?? 0;
  }

  /** Marks a model loaded without paying its load time (preloaded servers). */
  markLoaded(name: string): void {
    if (this.residents.has(name)) return;
    this.residents.set(name, { expiresAt: Date.now() + this.defaultKeepAliveMs, holds: 0, keepAliveMs: this.defaultKeepAliveMs });
    this.onChange('load', name);
    this.scheduleExpiry(name, this.defaultKeepAliveMs);
  }

  /** Loads the model if needed; resolves with how long this caller waited for it (ms). */
  async load(model: SimModel, signal: AbortSignal): Promise<number> {
    if (this.residents.has(model.name)) return 0;
    const startedAt = performance.now();
    let pending = this.loading.get(model.name);
    if (!pending) {
      // Shared by every caller and not cancelled when one of them leaves, like a real load.
      pending = delay(model.loadMs, undefined, { signal: this.closing.signal }).then(
        () => {
          this.loading.delete(model.name);
          this.markLoaded(model.name);
        },
        (error: unknown) => {
          this.loading.delete(model.name);
          throw error;
        },
      );
      this.loading.set(model.name, pending);
      this.onChange('loading', model.name);
    }
    await abortable(pending, signal);
    return performance.now() - startedAt;
  }

  hold(name: string, keepAliveMs: number): void {
    const resident = this.residents.get(name);
    if (!resident) return;
    clearTimeout(resident.timer);
    resident.holds++;
    resident.keepAliveMs = keepAliveMs;
    resident.expiresAt = Date.now() + keepAliveMs;
  }

  release(name: string): void {
    const resident = this.residents.get(name);
    if (!resident) return;
    resident.holds = Math.max(0, resident.holds - 1);
    this.keepFor(name, resident.keepAliveMs);
  }

  /** Sets the keep_alive countdown; it only runs while no chat holds the model (0 = unload once free). */
  keepFor(name: string, keepAliveMs: number): void {
    const resident = this.residents.get(name);
    if (!resident) return;
    resident.keepAliveMs = keepAliveMs;
    resident.expiresAt = Date.now() + keepAliveMs;
    if (resident.holds === 0) this.scheduleExpiry(name, keepAliveMs);
  }

  unload(name: string): void {
    const resident = this.residents.get(name);
    if (!resident) return;
    clearTimeout(resident.timer);
    this.residents.delete(name);
    this.onChange('unload', name);
  }

  close(): void {
    this.closing.abort();
    for (const name of [...this.residents.keys()]) this.unload(name);
  }

  private scheduleExpiry(name: string, keepAliveMs: number): void {
    const resident = this.residents.get(name)!;
    clearTimeout(resident.timer);
    if (keepAliveMs <= 0) return this.unload(name);
    if (keepAliveMs > MAX_TIMER_MS) return;
    resident.timer = setTimeout(() => this.unload(name), keepAliveMs).unref();
  }
}
