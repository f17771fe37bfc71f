import { EventEmitter } from 'node:events';
import type { BackendConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ProviderError } from '../providers/errors.js';
import type { ArenaDeployment } from './catalog.js';
import type { EngineControl } from './engine-control.js';
import { chooseVictims, DecayingRate, keepScore, type EvictionCandidate } from './eviction.js';
import type { ProbeFacts } from './probe.js';
import { runInBackground } from '../background.js';

/**
 * Keeps what is loaded on each GPU backend within its `vramMb` budget. The unit that loads and
 * unloads is an Ollama model, or a vLLM engine (one process, asleep or awake as a whole). A
 * request for a unit that is not in memory loads it first (`prepare`), evicting the idle units
 * the usage score values least; a unit with a stream in flight is never evicted. `rebalance`
 * preloads the most-used units that fit. What is loaded comes from the health probes
 * (`observe`), corrected at once by the manager's own loads and unloads.
 */

export interface SwapOptions {
  /** Half-life of the usage rate. */
  usageHalfLifeMs: number;
  /** How often preloading follows usage; 0 = only at start-up. */
  rebalanceMs: number;
  /** Fill free GPU memory at start-up (in preference order, since there is no usage yet). */
  preloadOnStart: boolean;
  /** Later preloads only bring in units used at least this often. */
  preloadMinPerMinute: number;
}

export const DEFAULT_SWAP_OPTIONS: SwapOptions = {
  usageHalfLifeMs: 10 * 60_000,
  rebalanceMs: 60_000,
  preloadOnStart: true,
  preloadMinPerMinute: 0.1,
};

/** `not-loaded`: on disk, loads on demand; `sleeping`: a vLLM engine with its weights in CPU RAM. */
export type Residency = 'loaded' | 'not-loaded' | 'sleeping' | 'loading' | 'unloading' | 'unknown';

/** Until measured: a cold load reads ~2 GB/s; a vLLM wake-up from level 1 is ~20× faster. */
const COLD_LOAD_MS_PER_MB = 0.5;
const WAKE_MS_PER_MB = 0.025;
const DEFAULT_SIZE_MB = 4096;

type UnitState = 'resident' | 'absent' | 'loading' | 'unloading' | 'unknown';

interface Unit {
  key: string;
  backend: BackendConfig;
  /** The model name to load (Ollama); the engine's first model (vLLM, informative only). */
  model: string;
  state: UnitState;
  /** vLLM without sleep mode cannot be put to sleep: never evicted. */
  pinned: boolean;
  measuredSizeMb?: number;
  measuredLoadMs?: number;
  /** Probes taken before this instant describe the unit as it was before our last action. */
  settledAt: number;
  /** Loads and unloads of one unit run one after another. */
  chain: Promise<void>;
  loading?: Promise<void>;
}

export interface LoadedUnit {
  key: string;
  /** What the unit holds: one Ollama model, or every model of a vLLM engine. */
  models: string[];
  sizeMb: number;
  /** Live usage: admin view only. */
  inFlight?: number;
  ratePerMinute?: number;
  score?: number;
}

export interface MemoryUse {
  budgetMb: number;
  usedMb: number;
  /** Loaded models Arena did not ask for (another client of the same Ollama). */
  otherMb: number;
  units: LoadedUnit[];
}

export interface SwapDeps {
  backends: BackendConfig[];
  deployments: () => ArenaDeployment[];
  control: EngineControl;
  options: SwapOptions;
  log: Logger;
}

export class SwapManager extends EventEmitter<{ change: [unitKey: string, residency: Residency] }> {
  private readonly backends: Map<string, BackendConfig>;
  private readonly units = new Map<string, Unit>();
  private readonly usage = new Map<string, DecayingRate>();
  private readonly inFlight = new Map<string, number>();
  private readonly otherMb = new Map<string, number>();
  private readonly now = Date.now;
  private timer: NodeJS.Timeout | undefined;
  private rebalancing: Promise<void> | undefined;

  constructor(private readonly deps: SwapDeps) {
    super();
    this.backends = new Map(deps.backends.map((b) => [b.id, b]));
  }

  /** Follows usage every `rebalanceMs`; resolves once the start-up preload (when enabled) is done. */
  start(): Promise<void> {
    if (this.deps.options.rebalanceMs > 0) {
      this.timer = setInterval(() => runInBackground(this.rebalance(), this.deps.log, 'rebalance'), this.deps.options.rebalanceMs);
      this.timer.unref();
    }
    return this.deps.options.preloadOnStart ? this.rebalance({ startup: true }) : Promise.resolve();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** What a probe of the backend saw; ignored for units the manager changed since it started. */
  observe(backendId: string, facts: ProbeFacts, probedAt: number): void {
    const backend = this.backends.get(backendId);
    if (!backend) return;
    if (backend.kind === 'ollama' && facts.loaded) this.observeOllama(backend, facts.loaded, probedAt);
    if (backend.kind === 'vllm') this.observeVllm(backend, facts.sleeping, probedAt);
  }

  /** The `prepare` attempt hook: undefined when the deployment can stream now, else its load. */
  prepare(deployment: string, signal?: AbortSignal): Promise<void> | undefined {
    const unit = this.unitOf(deployment);
    if (!unit || unit.state === 'resident' || unit.state === 'unknown') return undefined;
    const loading = unit.loading ?? this.load(unit);
    return signal ? untilAborted(loading, signal) : loading;
  }

  /** The `begin` attempt hook: counts usage and the stream in flight until it ends. */
  begin(deployment: string): () => void {
    this.rateOf(deployment).hit(this.now());
    this.inFlight.set(deployment, (this.inFlight.get(deployment) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight.set(deployment, (this.inFlight.get(deployment) ?? 1) - 1);
    };
  }

  /** False when loading it now would need to evict a model that is streaming. */
  canServeNow(deployment: string): boolean {
    const unit = this.unitOf(deployment);
    if (!unit || (unit.state !== 'absent' && unit.state !== 'unloading')) return true;
    if (!unit.backend.gpu || !unit.backend.vramMb) return true;
    return chooseVictims(this.evictable(unit), this.sizeOf(unit) - this.freeMb(unit)) !== undefined;
  }

  residency(deployment: string): Residency | undefined {
    const unit = this.unitOf(deployment);
    return unit && residencyOf(unit);
  }

  streamsInFlight(deployment: string): number {
    return this.inFlight.get(deployment) ?? 0;
  }

  ratePerMinute(deployment: string): number {
    return this.rateOf(deployment).perMinute(this.now());
  }

  /** Memory use of a GPU backend with a budget; undefined for the others. */
  memory(backendId: string): MemoryUse | undefined {
    const backend = this.backends.get(backendId);
    if (!backend?.gpu || !backend.vramMb) return undefined;
    const units = this.unitsOn(backendId)
      .filter((u) => u.state === 'resident' || u.state === 'loading' || u.state === 'unloading')
      .map((u) => {
        const c = this.candidate(u);
        const models = this.deploymentsOf(u).map((d) => d.model);
        return { key: u.key, models, sizeMb: c.sizeMb, inFlight: c.inFlight, ratePerMinute: round(c.ratePerMinute), score: round(keepScore(c)) };
      });
    const otherMb = this.otherMb.get(backendId) ?? 0;
    return { budgetMb: backend.vramMb, usedMb: units.reduce((sum, u) => sum + u.sizeMb, otherMb), otherMb, units };
  }

  /**
   * Preloads the most-used units that are not in memory, on every GPU backend with a budget: into
   * free memory, or in place of idle units that score lower. At start-up every unit qualifies.
   */
  rebalance(opts: { startup?: boolean } = {}): Promise<void> {
    this.rebalancing ??= this.preloadWanted(opts.startup ?? false).finally(() => {
      this.rebalancing = undefined;
    });
    return this.rebalancing;
  }

  private async preloadWanted(startup: boolean): Promise<void> {
    const now = this.now();
    for (const backend of this.backends.values()) {
      if (!backend.gpu || !backend.vramMb) continue;
      const wanted = this.unitsOn(backend.id)
        .filter((u) => u.state === 'absent')
        .map((u) => ({ unit: u, rate: this.unitRate(u, now) }))
        .filter(({ rate }) => startup || rate >= this.deps.options.preloadMinPerMinute)
        .sort((a, b) => b.rate - a.rate);
      for (const { unit } of wanted) {
        if (!this.worthPreloading(unit)) continue;
        await this.load(unit).catch((err: unknown) => this.deps.log.warn({ unit: unit.key, err: (err as Error).message }, 'preload failed'));
      }
    }
  }

  private worthPreloading(unit: Unit): boolean {
    const need = this.sizeOf(unit) - this.freeMb(unit);
    if (need <= 0) return true;
    const score = keepScore(this.candidate(unit));
    const victims = chooseVictims(this.evictable(unit).filter((c) => keepScore(c) < score), need);
    return victims !== undefined;
  }

  private load(unit: Unit): Promise<void> {
    if (unit.loading) return unit.loading;
    let victims: Unit[];
    try {
      victims = this.makeRoom(unit);
    } catch (err) {
      return Promise.reject(err);
    }
    this.setState(unit, 'loading');
    const loading = this.serially(unit, async () => {
      await Promise.all(victims.map((victim) => this.unload(victim)));
      const started = this.now();
      await this.deps.control.load(unit.backend, unit.model);
      unit.measuredLoadMs = this.now() - started;
      this.deps.log.info({ unit: unit.key, ms: unit.measuredLoadMs, evicted: victims.map((v) => v.key) }, 'model loaded');
    });
    unit.loading = loading.then(
      () => this.settle(unit, 'resident'),
      (err: unknown) => {
        this.settle(unit, 'absent');
        throw err;
      },
    );
    return unit.loading;
  }

  /**
   * Chooses what leaves memory for `unit` to fit, synchronously so that concurrent loads see
   * each other's decisions; victims still count as used until their unload has finished.
   */
  private makeRoom(unit: Unit): Unit[] {
    const budget = unit.backend.gpu ? unit.backend.vramMb : undefined;
    if (!budget) return [];
    const need = this.sizeOf(unit) - this.freeMb(unit);
    const chosen = chooseVictims(this.evictable(unit), need);
    if (!chosen) {
      throw new ProviderError('busy', `${unit.backend.id}: no room for ${unit.key} (${this.sizeOf(unit)} MiB) within ${budget} MiB: the rest is in use`);
    }
    const victims = chosen.map((c) => this.units.get(c.key)!);
    for (const victim of victims) this.setState(victim, 'unloading');
    return victims;
  }

  private unload(unit: Unit): Promise<void> {
    return this.serially(unit, async () => {
      try {
        await this.deps.control.unload(unit.backend, unit.model);
        this.deps.log.info({ unit: unit.key, score: keepScore(this.candidate(unit)) }, 'model evicted');
        this.settle(unit, 'absent');
      } catch (err) {
        // Still in memory as far as anyone knows; the next probe says for sure.
        this.settle(unit, 'resident');
        throw err;
      }
    });
  }

  private serially(unit: Unit, step: () => Promise<void>): Promise<void> {
    const run = unit.chain.then(step);
    unit.chain = run.catch(() => {});
    return run;
  }

  private settle(unit: Unit, state: UnitState): void {
    unit.loading = undefined;
    unit.settledAt = this.now();
    this.setState(unit, state);
  }

  private setState(unit: Unit, state: UnitState): void {
    if (unit.state === state) return;
    unit.state = state;
    this.emit('change', unit.key, residencyOf(unit));
  }

  /** Free memory on the unit's backend, not counting the unit itself (it may be on its way out). */
  private freeMb(unit: Unit): number {
    const { backend } = unit;
    const used = this.unitsOn(backend.id)
      .filter((u) => u !== unit && (u.state === 'resident' || u.state === 'loading' || u.state === 'unloading'))
      .reduce((sum, u) => sum + this.sizeOf(u), this.otherMb.get(backend.id) ?? 0);
    return (backend.vramMb ?? Infinity) - used;
  }

  private evictable(exclude: Unit): EvictionCandidate[] {
    return this.unitsOn(exclude.backend.id)
      .filter((u) => u !== exclude && u.state === 'resident' && !u.pinned)
      .map((u) => this.candidate(u));
  }

  private candidate(unit: Unit): EvictionCandidate {
    const deployments = this.deploymentsOf(unit);
    return {
      key: unit.key,
      sizeMb: this.sizeOf(unit),
      ratePerMinute: this.unitRate(unit, this.now()),
      reloadCostMs: unit.measuredLoadMs ?? this.sizeOf(unit) * (unit.backend.kind === 'vllm' ? WAKE_MS_PER_MB : COLD_LOAD_MS_PER_MB),
      inFlight: deployments.reduce((sum, d) => sum + this.streamsInFlight(d.key), 0),
    };
  }

  private sizeOf(unit: Unit): number {
    if (unit.measuredSizeMb) return unit.measuredSizeMb;
    const declared = this.deploymentsOf(unit).reduce((sum, d) => sum + (d.sizeMb ?? 0), 0);
    if (declared > 0) return declared;
    return unit.backend.kind === 'vllm' ? (unit.backend.vramMb ?? DEFAULT_SIZE_MB) : DEFAULT_SIZE_MB;
  }

  private unitRate(unit: Unit, now: number): number {
    return this.deploymentsOf(unit).reduce((sum, d) => sum + this.rateOf(d.key).perMinute(now), 0);
  }

  private rateOf(deployment: string): DecayingRate {
    let rate = this.usage.get(deployment);
    if (!rate) this.usage.set(deployment, (rate = new DecayingRate(this.deps.options.usageHalfLifeMs)));
    return rate;
  }

  private observeOllama(backend: BackendConfig, loaded: { model: string; sizeMb: number }[], probedAt: number): void {
    const units = this.unitsOn(backend.id);
    let otherMb = 0;
    for (const entry of loaded) {
      if (!units.some((u) => sameModel(u.model, entry.model))) otherMb += entry.sizeMb;
    }
    this.otherMb.set(backend.id, otherMb);
    for (const unit of units) {
      const entry = loaded.find((l) => sameModel(l.model, unit.model));
      if (entry?.sizeMb) unit.measuredSizeMb = entry.sizeMb;
      if (this.fresh(unit, probedAt)) this.setState(unit, entry ? 'resident' : 'absent');
    }
  }

  private observeVllm(backend: BackendConfig, sleeping: boolean | undefined, probedAt: number): void {
    for (const unit of this.unitsOn(backend.id)) {
      unit.pinned = sleeping === undefined;
      if (this.fresh(unit, probedAt)) this.setState(unit, sleeping ? 'absent' : 'resident');
    }
  }

  /** A probe describes a unit only when no action of ours is under way or ended after it began. */
  private fresh(unit: Unit, probedAt: number): boolean {
    return unit.state !== 'loading' && unit.state !== 'unloading' && probedAt >= unit.settledAt;
  }

  private unitOf(deployment: string): Unit | undefined {
    const d = this.deps.deployments().find((x) => x.key === deployment);
    return d ? this.unitFor(d) : undefined;
  }

  private unitsOn(backendId: string): Unit[] {
    const seen = new Set<Unit>();
    for (const d of this.deps.deployments()) {
      if (d.backendId !== backendId) continue;
      const unit = this.unitFor(d);
      if (unit) seen.add(unit);
    }
    return [...seen];
  }

  /** vLLM: one unit per engine; Ollama: one per model; OpenAI: none (always ready). */
  private unitFor(d: ArenaDeployment): Unit | undefined {
    const backend = this.backends.get(d.backendId);
    if (!backend || backend.kind === 'openai') return undefined;
    const key = backend.kind === 'vllm' ? backend.id : d.key;
    let unit = this.units.get(key);
    if (!unit) {
      unit = { key, backend, model: d.model, state: 'unknown', pinned: false, settledAt: 0, chain: Promise.resolve() };
      this.units.set(key, unit);
    }
    return unit;
  }

  private deploymentsOf(unit: Unit): ArenaDeployment[] {
    const keys = new Set<string>();
    return this.deps.deployments().filter((d) => {
      if (d.backendId !== unit.backend.id || keys.has(d.key)) return false;
      keys.add(d.key);
      return unit.backend.kind === 'vllm' || d.key === unit.key;
    });
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function residencyOf(unit: Unit): Residency {
  if (unit.state === 'resident') return 'loaded';
  if (unit.state === 'absent') return unit.backend.kind === 'vllm' ? 'sleeping' : 'not-loaded';
  return unit.state;
}

/** Ollama treats `name` and `name:latest` as the same model. */
function sameModel(a: string, b: string): boolean {
  const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`);
  return tagged(a) === tagged(b);
}

function untilAborted(pending: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new ProviderError('aborted', 'cancelled while the model was loading'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ProviderError('aborted', 'cancelled while the model was loading'));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
