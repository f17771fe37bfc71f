import type { EventEmitter } from 'node:events';
import type { Simulator } from '../../server/sim/index.js';

type Listener = Parameters<EventEmitter['on']>[1];

/**
 * What GPU simulators report, watched from the outside for the swap tests: the memory they hold
 * (the figure behind Ollama's `/api/ps` and the vLLM simulator's memory gauge) at every change
 * and every few ms, unloads or sleeps requested while a chat ran on that unit, chats refused.
 */
export interface BackendWatch {
  peakMb(): number;
  /** How many times memory was read: at every load, unload, sleep and wake, and every 5 ms. */
  readings(): number;
  leasedEvictions(): number;
  refused(): number;
  count(event: string): number;
  stop(): void;
}

export function watchBackends(sims: Simulator[]): BackendWatch {
  let peak = 0;
  let readings = 0;
  let leased = 0;
  let refused = 0;
  const counts = new Map<string, number>();
  const read = () => {
    readings++;
    peak = Math.max(peak, sims.reduce((sum, s) => sum + s.state().memoryMb, 0));
  };
  const listeners: Array<[Simulator, string, Listener]> = [];
  const on = (sim: Simulator, event: string, fn: Listener) => {
    sim.events.on(event, fn);
    listeners.push([sim, event, fn]);
  };
  for (const sim of sims) {
    for (const event of ['loading', 'load', 'unload', 'sleep', 'wake']) {
      on(sim, event, () => {
        counts.set(event, (counts.get(event) ?? 0) + 1);
        read();
      });
    }
    on(sim, 'unload-request', (e: { running: number }) => void (e.running > 0 && leased++));
    on(sim, 'sleep-request', (e: { running: number }) => void (e.running > 0 && leased++));
    on(sim, 'refused', () => void refused++);
  }
  const timer = setInterval(read, 5);
  return {
    peakMb: () => peak,
    readings: () => readings,
    leasedEvictions: () => leased,
    refused: () => refused,
    count: (event) => counts.get(event) ?? 0,
    stop() {
      clearInterval(timer);
      for (const [sim, event, fn] of listeners) sim.events.off(event, fn);
    },
  };
}

/** Resolves once `check` holds, polling every 10 ms; rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
