import type { BackendConfig, GpuConfig } from '../config/schema.js';
import type { Logger } from '../infra/log.js';
import { ProviderError } from '../providers/errors.js';
import type { ArenaDeployment } from './catalog.js';
import type { EngineControl } from './engine-control.js';
import { chooseVictims, keepScore, type EvictionCandidate } from './eviction.js';
import type { GpuPool } from './gpu-pools.js';
import type { ProbeFacts } from './probe.js';
import type { LoadedUnit, MemoryUse, Residency } from '../../src/lib/shared/status.js';

/** The swap manager's options, state records and small pure helpers (swap.ts has the overview). */

export interface SwapOptions {
  /** Half-life of the usage rate. */
  usageHalfLifeMs: number;
  /** How often preloading follows usage besides demand-triggered runs; 0 = only on demand. */
  rebalanceMs: number;
  /** Fill free GPU memory at start-up (in preference order, since there is no usage yet). */
  preloadOnStart: boolean;
  /** Later preloads only bring in units used at least this often. */
  preloadMinPerMinute: number;
  /** A unit replaces resident ones only when its score is this many times theirs. */
  hysteresis: number;
  /** A unit loaded less than this long ago is not pushed out by a preload. */
  minResidentMs: number;
  /** How long a preload waits for a victim's streams to end (new requests go elsewhere meanwhile). */
  drainTimeoutMs: number;
  /** How often an unload is checked with the backend until it reports the unit gone. */
  confirmPollMs: number;
  /** Gives up an unload the backend still reports in memory after this long. */
  confirmTimeoutMs: number;
  /** An Ollama unit believed loaded is re-checked before a chat when last confirmed longer ago (vLLM: always). */
  recheckMs: number;
  /** Demand for a unit not in memory starts a preload this much later (several requests, one run). */
  preloadDelayMs: number;
}

export const DEFAULT_SWAP_OPTIONS: SwapOptions = {
  usageHalfLifeMs: 10 * 60_000,
  rebalanceMs: 30_000,
  preloadOnStart: true,
  preloadMinPerMinute: 0.1,
  hysteresis: 1.5,
  minResidentMs: 30_000,
  drainTimeoutMs: 20_000,
  confirmPollMs: 100,
  confirmTimeoutMs: 120_000,
  recheckMs: 1_000,
  preloadDelayMs: 200,
};

/** Until measured: a cold load reads ~2 GB/s; a vLLM wake-up from level 1 is ~20× faster. */
export const COLD_LOAD_MS_PER_MB = 0.5;
export const WAKE_MS_PER_MB = 0.025;
export const DEFAULT_SIZE_MB = 4096;
/** A victim that could not be evicted (leased again, backend refused) lets the load re-plan this often. */
export const MAX_PLANS = 3;

export type UnitState = 'resident' | 'absent' | 'loading' | 'unloading' | 'unknown';

export interface Unit {
  key: string;
  backend: BackendConfig;
  pool?: GpuPool;
  /** The model name to load (Ollama); the engine's first model (vLLM, informative only). */
  model: string;
  state: UnitState;
  /** vLLM without sleep mode cannot be put to sleep: never evicted. */
  pinned: boolean;
  /** A preload wants it out: new requests go to the next deployment until its streams end. */
  draining: boolean;
  measuredSizeMb?: number;
  measuredLoadMs?: number;
  /** When it last finished loading (0: found loaded). */
  loadedAt: number;
  /** Probes taken before this instant describe the unit as it was before our last action. */
  settledAt: number;
  /** When the backend last confirmed the unit's state. */
  confirmedAt: number;
  /** The load under way or queued, shared by every request waiting for it. */
  loading?: Promise<void>;
}

export interface PoolQueue {
  tail: Promise<void>;
  /** Expected duration of each queued or running load, for the wait estimate. */
  pending: Array<{ unit: Unit; estimateMs: number; startedAt?: number }>;
}

export interface SwapDeps {
  backends: BackendConfig[];
  gpus?: GpuConfig[];
  deployments: () => ArenaDeployment[];
  control: EngineControl;
  options: SwapOptions;
  log: Logger;
  /** What a backend reports now (a probe's facts), to reconcile a GPU's picture before deciding a load. */
  report?: (backend: BackendConfig) => Promise<ProbeFacts | undefined>;
  now?: () => number;
}

/** Why a load runs: a request waits for it (`forced`: it has no other deployment), usage, or start-up. */
export type LoadMode = 'demand' | 'forced' | 'preload' | 'startup';

/** Every idle candidate, lowest score first: when the idle ones cannot free enough, they all go. */
export function idleByScore(candidates: EvictionCandidate[]): EvictionCandidate[] {
  return chooseVictims(candidates, Infinity) ?? candidates.filter((c) => c.inFlight === 0).sort((a, b) => keepScore(a) - keepScore(b));
}

export function holdsMemory(unit: Unit): boolean {
  return unit.state === 'resident' || unit.state === 'loading' || unit.state === 'unloading';
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export function residencyOf(unit: Unit): Residency {
  if (unit.state === 'resident') return 'loaded';
  if (unit.loading && unit.state === 'absent') return 'loading';
  if (unit.state === 'absent') return unit.backend.kind === 'vllm' ? 'sleeping' : 'not-loaded';
  return unit.state;
}

/** Ollama treats `name` and `name:latest` as the same model. */
export function sameModel(a: string, b: string): boolean {
  const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`);
  return tagged(a) === tagged(b);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function untilAborted(pending: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new ProviderError('aborted', 'cancelled while the model was loading'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ProviderError('aborted', 'cancelled while the model was loading'));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

