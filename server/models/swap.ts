import { EventEmitter } from 'node:events';
import type { BackendConfig, GpuConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ProviderError } from '../providers/errors.js';
import { Ewma, waitingBeatsFallback, worthReplacing } from './admission.js';
import type { ArenaDeployment } from './catalog.js';
import type { EngineControl } from './engine-control.js';
import { chooseVictims, DecayingRate, keepScore, type EvictionCandidate } from './eviction.js';
import { gpuPools, type GpuPool } from './gpu-pools.js';
import type { ProbeFacts } from './probe.js';
import { runInBackground } from '../background.js';
import type { LoadedUnit, MemoryUse, Residency } from '../../src/lib/shared/status.js';

/**
 * Keeps what the backends on each GPU hold within that GPU's memory. The unit that loads and
 * unloads is an Ollama model, or a vLLM engine (one process, asleep or awake as a whole); the
 * units of every backend declaring the same GPU share its budget.
 *
 * - A unit serving a request is leased from the attempt's start until its stream ends; a leased
 *   unit is never evicted, and every eviction re-checks that just before it is sent.
 * - An unloading unit counts as used until the backend itself reports it gone (`/api/ps`,
 *   `/is_sleeping`): Ollama holds an unload back until the model's running requests end.
 * - Loads, and the evictions that make room for them, run one at a time per GPU, each deciding
 *   its victims when it runs, never when it was queued.
 * - Routing asks `deferred`: a request waits for a load only when that beats the fallback's first
 *   token; otherwise the fallback serves it and the demand counts toward preloading, which runs
 *   whenever demand meets a unit that is not in memory, under load as well as idle.
 * - Probes (`observe`) and re-checks before a chat correct the view, and a GPU found over its
 *   budget (a model loaded by someone else, an engine woken outside Arena) is brought back.
 */

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

/** `not-loaded`: on disk, loads on demand; `sleeping`: a vLLM engine with its weights in CPU RAM. */
/** Until measured: a cold load reads ~2 GB/s; a vLLM wake-up from level 1 is ~20× faster. */
const COLD_LOAD_MS_PER_MB = 0.5;
const WAKE_MS_PER_MB = 0.025;
const DEFAULT_SIZE_MB = 4096;
/** A victim that could not be evicted (leased again, backend refused) lets the load re-plan this often. */
const MAX_PLANS = 3;

type UnitState = 'resident' | 'absent' | 'loading' | 'unloading' | 'unknown';

interface Unit {
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

interface PoolQueue {
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

export class SwapManager extends EventEmitter<{ change: [unitKey: string, residency: Residency] }> {
  private readonly backends: Map<string, BackendConfig>;
  private readonly pools: Map<string, GpuPool>;
  private readonly queues = new Map<string, PoolQueue>();
  private readonly units = new Map<string, Unit>();
  private readonly usage = new Map<string, DecayingRate>();
  private readonly ttft = new Map<string, Ewma>();
  /** ms per MiB of each backend's loads, for units not measured yet. */
  private readonly loadSpeed = new Map<string, Ewma>();
  private readonly inFlight = new Map<string, number>();
  private readonly otherMb = new Map<string, number>();
  private readonly idleWaiters = new Map<Unit, Array<() => void>>();
  private readonly checks = new Map<Unit, Promise<void>>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private stopped = false;

  constructor(private readonly deps: SwapDeps) {
    super();
    this.backends = new Map(deps.backends.map((b) => [b.id, b]));
    this.pools = gpuPools(deps.gpus ?? [], deps.backends);
    this.now = deps.now ?? Date.now;
  }

  /** Follows usage every `rebalanceMs`; resolves once the start-up preload (when enabled) is done. */
  start(): Promise<void> {
    if (this.deps.options.rebalanceMs > 0) {
      this.timer = setInterval(() => runInBackground(this.rebalance(), this.deps.log, 'rebalance'), this.deps.options.rebalanceMs);
      this.timer.unref();
    }
    const startup = this.deps.options.preloadOnStart ? this.rebalance({ startup: true }) : Promise.resolve();
    return startup.then(() => this.enforceBudgets());
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
  }

  /** What a probe of the backend saw; ignored for units the manager changed since it started. */
  observe(backendId: string, facts: ProbeFacts, probedAt: number): void {
    const backend = this.backends.get(backendId);
    if (!backend) return;
    this.observeOnly(backend, facts, probedAt);
    const pool = this.pools.get(backendId);
    if (pool && this.usedMb(pool) > pool.budgetMb) runInBackground(this.enforceBudget(pool), this.deps.log, 'enforcing the GPU budget', { gpu: pool.id });
  }

  /** A request that these deployments could serve: its demand counts for each, wherever it is served. */
  request(deployments: string[]): void {
    const now = this.now();
    let wanted = false;
    for (const key of new Set(deployments)) {
      this.rateOf(key).hit(now);
      const unit = this.unitOf(key);
      if (unit?.pool && unit.state !== 'resident' && !unit.loading) wanted = true;
    }
    if (wanted) this.rebalanceSoon();
  }

  /** The `begin` attempt hook: leases the deployment's unit until the stream ends. */
  begin(deployment: string): () => void {
    this.inFlight.set(deployment, (this.inFlight.get(deployment) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight.set(deployment, (this.inFlight.get(deployment) ?? 1) - 1);
      const unit = this.unitOf(deployment);
      if (unit && this.leasesOf(unit) === 0) this.wakeIdleWaiters(unit);
    };
  }

  /** The `firstToken` attempt hook: how fast each deployment answers once ready. */
  firstToken(deployment: string, ms: number): void {
    let ewma = this.ttft.get(deployment);
    if (!ewma) this.ttft.set(deployment, (ewma = new Ewma()));
    ewma.add(ms);
  }

  /**
   * The `check` attempt hook: before a chat goes to a unit believed in memory, asks the backend
   * when the view may be stale (a vLLM engine always: a chat to a sleeping engine is not served).
   */
  check(deployment: string): Promise<void> | undefined {
    const unit = this.unitOf(deployment);
    if (!unit?.pool || unit.state !== 'resident' || unit.pinned) return undefined;
    const maxAge = unit.backend.kind === 'vllm' ? 0 : this.deps.options.recheckMs;
    if (maxAge > 0 && this.now() - unit.confirmedAt < maxAge) return undefined;
    let pending = this.checks.get(unit);
    if (!pending) {
      const askedAt = this.now();
      pending = this.deps.control
        .inMemory(unit.backend, unit.model)
        .then((present) => {
          if (unit.state !== 'resident' || askedAt < unit.settledAt) return;
          unit.confirmedAt = askedAt;
          if (!present) {
            this.deps.log.warn({ unit: unit.key }, 'unit left memory outside Arena');
            this.setState(unit, 'absent');
          }
        })
        .finally(() => this.checks.delete(unit));
      this.checks.set(unit, pending);
    }
    return pending;
  }

  /** The `prepare` attempt hook: undefined when the deployment can stream now, else its load. */
  prepare(deployment: string, signal?: AbortSignal): Promise<void> | undefined {
    const unit = this.unitOf(deployment);
    if (!unit || unit.state === 'resident' || unit.state === 'unknown') return undefined;
    const loading = this.ensureLoaded(unit);
    return signal ? untilAborted(loading, signal) : loading;
  }

  /**
   * A request is waiting: joins the load under way, or queues one that may evict any idle unit
   * (routing already sent the request elsewhere when that was not worth it). A queued preload that
   * decided against loading does not leave the request with a unit still out of memory.
   */
  private async ensureLoaded(unit: Unit): Promise<void> {
    for (let attempt = 0; attempt < MAX_PLANS && unit.state !== 'resident'; attempt++) {
      await (unit.loading ?? this.load(unit, 'forced'));
    }
    if (unit.state !== 'resident') throw this.noRoom(unit);
  }

  /**
   * Whether routing should put this deployment behind `fallback`: it is being drained, or it is not
   * in memory and waiting for it would be slower than the fallback, or it could only come in by
   * evicting units worth more (or streaming). Without a fallback it is never deferred.
   */
  deferred(deployment: string, fallback: string | undefined): boolean {
    const unit = this.unitOf(deployment);
    if (!unit?.pool || !fallback) return false;
    if (unit.state === 'resident') return unit.draining;
    if (unit.state === 'unknown') return false;
    const estimate = {
      loadMs: unit.loading ? this.remainingMs(unit) : this.loadMsOf(unit),
      queueMs: unit.loading ? 0 : this.queueMs(unit.pool),
      gpuTtftMs: this.ttft.get(deployment)?.get() ?? 0,
      fallbackTtftMs: this.expectedTtft(fallback),
    };
    if (!waitingBeatsFallback(estimate)) return true;
    return !unit.loading && this.victimsFor(unit, 'demand') === undefined;
  }

  /** False when loading it now would need to evict a model that is streaming. */
  canServeNow(deployment: string): boolean {
    const unit = this.unitOf(deployment);
    if (!unit?.pool || (unit.state !== 'absent' && unit.state !== 'unloading')) return true;
    return this.victimsFor(unit, 'forced') !== undefined;
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

  /** Memory use of the GPU a backend runs on (shared with its other backends); undefined without one. */
  memory(backendId: string): MemoryUse | undefined {
    const pool = this.pools.get(backendId);
    if (!pool) return undefined;
    const units = this.unitsIn(pool)
      .filter(holdsMemory)
      .map((u) => {
        const c = this.candidate(u);
        const models = this.deploymentsOf(u).map((d) => d.model);
        return { key: u.key, models, sizeMb: c.sizeMb, backend: u.backend.id, inFlight: c.inFlight, ratePerMinute: round(c.ratePerMinute), score: round(keepScore(c)) };
      });
    const otherMb = this.otherMbOf(pool);
    return { gpu: pool.id, budgetMb: pool.budgetMb, usedMb: units.reduce((sum, u) => sum + u.sizeMb, otherMb), otherMb, units };
  }

  /**
   * Preloads the most-used units that are not in memory, on every GPU: into free memory, or in
   * place of idle units scoring clearly lower. At start-up every unit qualifies, into free memory only.
   */
  rebalance(opts: { startup?: boolean } = {}): Promise<void> {
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = this.preloadAll(opts.startup ?? false).finally(() => {
      this.rebalancing = undefined;
      if (this.rebalanceAgain && !this.stopped) {
        this.rebalanceAgain = false;
        runInBackground(this.rebalance(), this.deps.log, 'rebalance');
      }
    });
    return this.rebalancing;
  }

  private rebalanceSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      runInBackground(this.rebalance(), this.deps.log, 'rebalance');
    }, this.deps.options.preloadDelayMs);
    this.soon.unref();
  }

  private async preloadAll(startup: boolean): Promise<void> {
    const pools = new Set(this.pools.values());
    await Promise.all([...pools].map((pool) => this.preloadPool(pool, startup)));
  }

  /** One unit at a time, most valuable first, until nothing more is worth loading. */
  private async preloadPool(pool: GpuPool, startup: boolean): Promise<void> {
    const tried = new Set<Unit>();
    for (;;) {
      if (this.stopped) return;
      const now = this.now();
      const wanted = this.unitsIn(pool)
        .filter((u) => u.state === 'absent' && !u.loading && !tried.has(u))
        .map((unit) => ({ unit, rate: this.unitRate(unit, now), score: keepScore(this.candidate(unit)) }))
        .filter(({ rate }) => startup || rate >= this.deps.options.preloadMinPerMinute);
      // At start-up there is no usage yet: the models' preference order (discovery order) decides.
      if (!startup) wanted.sort((a, b) => b.score - a.score);
      const next = wanted.find(({ unit }) => this.victimsFor(unit, startup ? 'startup' : 'preload') !== undefined);
      if (!next) return;
      tried.add(next.unit);
      await this.load(next.unit, startup ? 'startup' : 'preload').catch((err: unknown) =>
        this.deps.log.warn({ unit: next.unit.key, err: (err as Error).message }, 'preload failed'),
      );
    }
  }

  /** Queues a load on the unit's GPU; concurrent requests share it. */
  private load(unit: Unit, mode: LoadMode): Promise<void> {
    if (unit.loading) return unit.loading;
    if (!unit.pool) return this.loadWithoutBudget(unit);
    const estimateMs = this.loadMsOf(unit);
    const queue = this.queueOf(unit.pool);
    const entry: PoolQueue['pending'][number] = { unit, estimateMs };
    queue.pending.push(entry);
    const run = queue.tail.then(async () => {
      entry.startedAt = this.now();
      await this.loadNow(unit, mode);
    });
    queue.tail = run.catch(() => {});
    unit.loading = run.finally(() => {
      unit.loading = undefined;
      queue.pending.splice(queue.pending.indexOf(entry), 1);
      this.emit('change', unit.key, residencyOf(unit));
    });
    this.emit('change', unit.key, residencyOf(unit));
    return unit.loading;
  }

  /** A backend on no GPU budget: load on demand, nothing to evict. */
  private loadWithoutBudget(unit: Unit): Promise<void> {
    this.setState(unit, 'loading');
    unit.loading = this.deps.control.load(unit.backend, unit.model).then(
      () => this.settle(unit, 'resident'),
      (err: unknown) => {
        this.settle(unit, 'absent');
        throw err;
      },
    ).finally(() => {
      unit.loading = undefined;
    });
    return unit.loading;
  }

  /** Runs in the GPU's queue: decides the victims now, evicts them (each re-checked), then loads. */
  private async loadNow(unit: Unit, mode: LoadMode): Promise<void> {
    if (unit.state === 'resident') return;
    if (unit.state === 'unloading' || unit.state === 'unknown') await this.untilSettled(unit);
    await this.reconcile(unit.pool!);
    for (let plan = 0; ; plan++) {
      const victims = this.victimsFor(unit, mode);
      if (!victims) throw this.noRoom(unit);
      if (mode !== 'demand' && mode !== 'forced' && !this.stillWorthIt(unit, victims, mode)) return;
      const evicted = await Promise.all(victims.map((v) => this.evict(v, mode === 'preload')));
      if (evicted.every(Boolean)) break;
      // A preload whose victim stayed busy through its drain tries again on the next pass.
      if (mode === 'preload') return;
      if (plan + 1 >= MAX_PLANS) throw this.noRoom(unit);
    }
    this.setState(unit, 'loading');
    const started = this.now();
    try {
      await this.deps.control.load(unit.backend, unit.model);
    } catch (err) {
      this.settle(unit, 'absent');
      throw err;
    }
    unit.measuredLoadMs = this.now() - started;
    this.noteLoadSpeed(unit);
    // Start-up preloads follow the preference order, not usage: nothing to protect from a swap.
    unit.loadedAt = mode === 'startup' ? 0 : this.now();
    unit.confirmedAt = this.now();
    this.settle(unit, 'resident');
    this.deps.log.info({ unit: unit.key, gpu: unit.pool!.id, ms: unit.measuredLoadMs, mode }, 'model loaded');
  }

  private noteLoadSpeed(unit: Unit): void {
    let speed = this.loadSpeed.get(unit.backend.id);
    if (!speed) this.loadSpeed.set(unit.backend.id, (speed = new Ewma()));
    speed.add(unit.measuredLoadMs! / Math.max(1, this.sizeOf(unit)));
  }

  /** A preload keeps its reason to run while it waited in the queue. */
  private stillWorthIt(unit: Unit, victims: Unit[], mode: LoadMode): boolean {
    if (mode === 'startup' || victims.length === 0) return true;
    return this.unitRate(unit, this.now()) >= this.deps.options.preloadMinPerMinute;
  }

  /**
   * The units to evict so that `unit` fits, or undefined when it cannot. `demand`: idle units
   * scoring clearly below it; `forced` (no other deployment): any idle unit; `preload`: also
   * units streaming now (drained first) but loaded at least `minResidentMs` ago, scoring clearly
   * below it; `startup`: free memory only.
   */
  private victimsFor(unit: Unit, mode: LoadMode): Unit[] | undefined {
    const pool = unit.pool!;
    const need = this.sizeOf(unit) - this.freeMb(pool, unit);
    if (need <= 0) return [];
    if (mode === 'startup') return undefined;
    const now = this.now();
    const score = keepScore(this.candidate(unit));
    const { hysteresis, minResidentMs } = this.deps.options;
    const candidates = this.unitsIn(pool)
      .filter((u) => u !== unit && u.state === 'resident' && !u.pinned && !u.loading)
      .map((u) => ({ unit: u, c: this.candidate(u) }))
      .filter(({ unit: u, c }) => {
        if (mode === 'forced') return true;
        if (!worthReplacing(score, keepScore(c), hysteresis)) return false;
        return mode === 'demand' || now - u.loadedAt >= minResidentMs;
      })
      .map(({ c }) => (mode === 'preload' ? { ...c, inFlight: 0 } : c));
    return chooseVictims(candidates, need)?.map((c) => this.units.get(c.key)!);
  }

  /**
   * Takes a unit out of memory: optionally drains it first (new requests go elsewhere until its
   * streams end), re-checks that nothing leases it just before sending the unload, then waits
   * until the backend reports it gone. False when it stayed.
   */
  private async evict(unit: Unit, drain: boolean): Promise<boolean> {
    if (drain && this.leasesOf(unit) > 0) {
      unit.draining = true;
      this.emit('change', unit.key, residencyOf(unit));
      try {
        await this.untilIdle(unit, this.deps.options.drainTimeoutMs);
      } finally {
        unit.draining = false;
      }
    }
    if (this.leasesOf(unit) > 0 || unit.state !== 'resident') return false;
    const score = keepScore(this.candidate(unit));
    this.setState(unit, 'unloading');
    unit.settledAt = this.now();
    try {
      await this.deps.control.unload(unit.backend, unit.model);
      await this.untilGone(unit);
    } catch (err) {
      // Still in memory as far as anyone knows; the next probe says for sure.
      this.deps.log.warn({ unit: unit.key, err: (err as Error).message }, 'eviction failed');
      this.settle(unit, 'resident');
      return false;
    }
    this.settle(unit, 'absent');
    this.deps.log.info({ unit: unit.key, gpu: unit.pool!.id, score }, 'model evicted');
    return true;
  }

  /** Asks every backend on the GPU what it holds (someone else may have loaded or unloaded models). */
  private async reconcile(pool: GpuPool): Promise<void> {
    const report = this.deps.report;
    if (!report) return;
    await Promise.all(
      pool.backendIds.map(async (id) => {
        const backend = this.backends.get(id)!;
        const askedAt = this.now();
        const facts = await report(backend).catch(() => undefined);
        if (facts) this.observeOnly(backend, facts, askedAt);
      }),
    );
  }

  /** Polls the backend until it no longer reports the unit (Ollama waits for running requests to end). */
  private async untilGone(unit: Unit): Promise<void> {
    const deadline = this.now() + this.deps.options.confirmTimeoutMs;
    while (await this.deps.control.inMemory(unit.backend, unit.model)) {
      if (this.now() >= deadline) throw new ProviderError('busy', `${unit.backend.id} still holds ${unit.key} ${this.deps.options.confirmTimeoutMs} ms after its unload`);
      await sleep(this.deps.options.confirmPollMs);
    }
    unit.confirmedAt = this.now();
  }

  /** Over budget by the backends' own reports: evicts idle units, lowest score first, until it fits. */
  private enforceBudget(pool: GpuPool): Promise<void> {
    const queue = this.queueOf(pool);
    const run = queue.tail.then(async () => {
      const over = this.usedMb(pool) - pool.budgetMb;
      if (over <= 0) return;
      // Ties (no usage yet, at start-up) go against the units later in preference order.
      const candidates = this.unitsIn(pool)
        .filter((u) => u.state === 'resident' && !u.pinned && !u.loading)
        .map((u) => this.candidate(u))
        .reverse();
      const victims = chooseVictims(candidates, over) ?? idleByScore(candidates);
      this.deps.log.warn({ gpu: pool.id, usedMb: this.usedMb(pool), budgetMb: pool.budgetMb, evicting: victims.map((v) => v.key) }, 'GPU over budget');
      await Promise.all(victims.map((v) => this.evict(this.units.get(v.key)!, false)));
    });
    queue.tail = run.catch(() => {});
    return queue.tail;
  }

  private async enforceBudgets(): Promise<void> {
    await Promise.all([...new Set(this.pools.values())].map((pool) => (this.usedMb(pool) > pool.budgetMb ? this.enforceBudget(pool) : undefined)));
  }

  private untilIdle(unit: Unit, timeoutMs: number): Promise<void> {
    if (this.leasesOf(unit) === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      const waiters = this.idleWaiters.get(unit) ?? [];
      waiters.push(done);
      this.idleWaiters.set(unit, waiters);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private wakeIdleWaiters(unit: Unit): void {
    const waiters = this.idleWaiters.get(unit);
    if (!waiters) return;
    this.idleWaiters.delete(unit);
    for (const wake of waiters) wake();
  }

  /** A unit found `unknown` or being unloaded by someone else: the next probe tells. */
  private async untilSettled(unit: Unit): Promise<void> {
    if (unit.state === 'unloading') return;
    const present = await this.deps.control.inMemory(unit.backend, unit.model).catch(() => false);
    if (unit.state === 'unknown') this.setState(unit, present ? 'resident' : 'absent');
  }

  private noRoom(unit: Unit): ProviderError {
    const pool = unit.pool!;
    return new ProviderError('busy', `${pool.id}: no room for ${unit.key} (${this.sizeOf(unit)} MiB) within ${pool.budgetMb} MiB: the rest is in use`);
  }

  private settle(unit: Unit, state: UnitState): void {
    unit.settledAt = this.now();
    this.setState(unit, state);
  }

  private setState(unit: Unit, state: UnitState): void {
    if (unit.state === state) return;
    unit.state = state;
    this.emit('change', unit.key, residencyOf(unit));
  }

  private queueOf(pool: GpuPool): PoolQueue {
    let queue = this.queues.get(pool.id);
    if (!queue) this.queues.set(pool.id, (queue = { tail: Promise.resolve(), pending: [] }));
    return queue;
  }

  private queueMs(pool: GpuPool): number {
    const now = this.now();
    return this.queueOf(pool).pending.reduce((sum, p) => sum + Math.max(0, p.estimateMs - (p.startedAt ? now - p.startedAt : 0)), 0);
  }

  /** Until the unit's own queued or running load should be done. */
  private remainingMs(unit: Unit): number {
    const pending = this.queueOf(unit.pool!).pending;
    const now = this.now();
    let sum = 0;
    for (const p of pending) {
      sum += Math.max(0, p.estimateMs - (p.startedAt ? now - p.startedAt : 0));
      if (p.unit === unit) break;
    }
    return sum;
  }

  private expectedTtft(deployment: string): number | undefined {
    const measured = this.ttft.get(deployment)?.get();
    if (measured === undefined) return undefined;
    const unit = this.unitOf(deployment);
    // A fallback that itself must load first is slower by that load.
    return unit?.pool && unit.state !== 'resident' ? measured + this.loadMsOf(unit) : measured;
  }

  /** Measured; else at the speed measured for the backend's other units; else the default speed. */
  private loadMsOf(unit: Unit): number {
    if (unit.measuredLoadMs !== undefined) return unit.measuredLoadMs;
    const perMb = this.loadSpeed.get(unit.backend.id)?.get() ?? (unit.backend.kind === 'vllm' ? WAKE_MS_PER_MB : COLD_LOAD_MS_PER_MB);
    return this.sizeOf(unit) * perMb;
  }

  /** Free memory on the GPU, not counting `exclude` (it may be on its way out, or the one to load). */
  private freeMb(pool: GpuPool, exclude?: Unit): number {
    return pool.budgetMb - this.usedMb(pool, exclude);
  }

  private usedMb(pool: GpuPool, exclude?: Unit): number {
    return this.unitsIn(pool)
      .filter((u) => u !== exclude && holdsMemory(u))
      .reduce((sum, u) => sum + this.sizeOf(u), this.otherMbOf(pool));
  }

  private otherMbOf(pool: GpuPool): number {
    return pool.backendIds.reduce((sum, id) => sum + (this.otherMb.get(id) ?? 0), 0);
  }

  private leasesOf(unit: Unit): number {
    return this.deploymentsOf(unit).reduce((sum, d) => sum + this.streamsInFlight(d.key), 0);
  }

  private candidate(unit: Unit): EvictionCandidate {
    return {
      key: unit.key,
      sizeMb: this.sizeOf(unit),
      ratePerMinute: this.unitRate(unit, this.now()),
      reloadCostMs: this.loadMsOf(unit),
      inFlight: this.leasesOf(unit),
    };
  }

  private sizeOf(unit: Unit): number {
    if (unit.measuredSizeMb) return unit.measuredSizeMb;
    const declared = this.deploymentsOf(unit).reduce((sum, d) => sum + (d.sizeMb ?? 0), 0);
    if (declared > 0) return declared;
    return unit.backend.kind === 'vllm' ? (unit.pool?.budgetMb ?? DEFAULT_SIZE_MB) : DEFAULT_SIZE_MB;
  }

  private unitRate(unit: Unit, now: number): number {
    return this.deploymentsOf(unit).reduce((sum, d) => sum + this.rateOf(d.key).perMinute(now), 0);
  }

  private rateOf(deployment: string): DecayingRate {
    let rate = this.usage.get(deployment);
    if (!rate) this.usage.set(deployment, (rate = new DecayingRate(this.deps.options.usageHalfLifeMs)));
    return rate;
  }

  private observeOnly(backend: BackendConfig, facts: ProbeFacts, probedAt: number): void {
    if (backend.kind === 'ollama' && facts.loaded) this.observeOllama(backend, facts.loaded, probedAt);
    if (backend.kind === 'vllm') this.observeVllm(backend, facts.sleeping, probedAt);
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
      if (this.fresh(unit, probedAt)) this.observed(unit, entry ? 'resident' : 'absent', probedAt);
    }
  }

  private observeVllm(backend: BackendConfig, sleeping: boolean | undefined, probedAt: number): void {
    for (const unit of this.unitsOn(backend.id)) {
      unit.pinned = sleeping === undefined;
      if (this.fresh(unit, probedAt)) this.observed(unit, sleeping ? 'absent' : 'resident', probedAt);
    }
  }

  private observed(unit: Unit, state: UnitState, probedAt: number): void {
    unit.confirmedAt = Math.max(unit.confirmedAt, probedAt);
    this.setState(unit, state);
  }

  /** A probe describes a unit only when no action of ours is under way or ended after it began. */
  private fresh(unit: Unit, probedAt: number): boolean {
    return unit.state !== 'loading' && unit.state !== 'unloading' && !unit.loading && probedAt >= unit.settledAt;
  }

  private unitOf(deployment: string): Unit | undefined {
    const d = this.deps.deployments().find((x) => x.key === deployment);
    return d ? this.unitFor(d) : undefined;
  }

  private unitsIn(pool: GpuPool): Unit[] {
    return pool.backendIds.flatMap((id) => this.unitsOn(id));
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
      const pool = this.pools.get(backend.id);
      unit = { key, backend, pool, model: d.model, state: 'unknown', pinned: false, draining: false, loadedAt: 0, settledAt: 0, confirmedAt: 0 };
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

/** Why a load runs: a request waits for it (`forced`: it has no other deployment), usage, or start-up. */
type LoadMode = 'demand' | 'forced' | 'preload' | 'startup';

/** Every idle candidate, lowest score first: when the idle ones cannot free enough, they all go. */
function idleByScore(candidates: EvictionCandidate[]): EvictionCandidate[] {
  return chooseVictims(candidates, Infinity) ?? candidates.filter((c) => c.inFlight === 0).sort((a, b) => keepScore(a) - keepScore(b));
}

function holdsMemory(unit: Unit): boolean {
  return unit.state === 'resident' || unit.state === 'loading' || unit.state === 'unloading';
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function residencyOf(unit: Unit): Residency {
  if (unit.state === 'resident') return 'loaded';
  if (unit.loading && unit.state === 'absent') return 'loading';
  if (unit.state === 'absent') return unit.backend.kind === 'vllm' ? 'sleeping' : 'not-loaded';
  return unit.state;
}

/** Ollama treats `name` and `name:latest` as the same model. */
function sameModel(a: string, b: string): boolean {
  const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`);
  return tagged(a) === tagged(b);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function untilAborted(pending: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new ProviderError('aborted', 'cancelled while the model was loading'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ProviderError('aborted', 'cancelled while the model was loading'));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
