import { untilAborted } from './timing.js';

interface Waiter {
  model: string;
  admitted: boolean;
  admit: () => void;
}

/** vLLM-style scheduling: up to `limit` requests run, the rest wait in arrival order. */
export class Admission {
  private readonly running = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(private readonly limit: number) {}

  async enter(model: string, signal: AbortSignal): Promise<void> {
    if (this.totalRunning() < this.limit && this.waiting.length === 0) return this.start(model);
    let waiter!: Waiter;
    const admitted = new Promise<void>((resolve) => {
      waiter = { model, admitted: false, admit: resolve };
      this.waiting.push(waiter);
    });
    try {
      await Promise.race([admitted, untilAborted(signal)]);
    } catch (error) {
      // The slot may have been handed over between the abort and this catch: give it back.
      if (waiter.admitted) this.leave(model);
      else this.waiting.splice(this.waiting.indexOf(waiter), 1);
      throw error;
    }
  }

  leave(model: string): void {
    this.running.set(model, (this.running.get(model) ?? 1) - 1);
    const next = this.waiting.shift();
    if (!next) return;
    this.start(next.model);
    next.admitted = true;
    next.admit();
  }

  runningOf(model: string): number {
    return this.running.get(model) ?? 0;
  }

  waitingOf(model: string): number {
    return this.waiting.filter((waiter) => waiter.model === model).length;
  }

  private totalRunning(): number {
    let total = 0;
    for (const count of this.running.values()) total += count;
    return total;
  }

  private start(model: string): void {
    this.running.set(model, this.runningOf(model) + 1);
  }
}
