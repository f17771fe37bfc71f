import { runInBackground } from '../background.js';
import { Ewma, waitingBeatsFallback } from './admission.js';
import { keepScore } from './eviction.js';
import type { ProbeFacts } from './probe.js';
import { SwapMover } from './swap-mover.js';
import type { MemoryUse, Residency } from '../../src/lib/shared/status.js';
import { holdsMemory, MAX_PLANS, residencyOf, round, untilAborted, type Unit } from './swap-types.js';

export { DEFAULT_SWAP_OPTIONS, type SwapDeps, type SwapOptions } from './swap-types.js';

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
export class SwapManager extends SwapMover {
  private readonly checks = new Map<Unit, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

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
}
