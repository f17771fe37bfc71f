import { ProviderError } from '../providers/errors.js';
import { runInBackground } from '../background.js';
import { Ewma, worthReplacing } from './admission.js';
import { chooseVictims, keepScore } from './eviction.js';
import type { GpuPool } from './gpu-pools.js';
import { SwapBook } from './swap-book.js';
import { idleByScore, MAX_PLANS, residencyOf, sleep, type LoadMode, type PoolQueue, type Unit } from './swap-types.js';

/**
 * Moves units in and out of GPU memory (swap.ts has the rules): the per-GPU queue of loads, the
 * choice of victims, evictions with drain and confirmation, budget enforcement and preloading.
 */
export class SwapMover extends SwapBook {
  protected readonly queues = new Map<string, PoolQueue>();
  protected readonly idleWaiters = new Map<Unit, Array<() => void>>();
  protected soon: NodeJS.Timeout | undefined;
  protected rebalancing: Promise<void> | undefined;
  protected rebalanceAgain = false;
  protected stopped = false;

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

  protected rebalanceSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      runInBackground(this.rebalance(), this.deps.log, 'rebalance');
    }, this.deps.options.preloadDelayMs);
    this.soon.unref();
  }

  protected async preloadAll(startup: boolean): Promise<void> {
    const pools = new Set(this.pools.values());
    await Promise.all([...pools].map((pool) => this.preloadPool(pool, startup)));
  }

  /** One unit at a time, most valuable first, until nothing more is worth loading. */
  protected async preloadPool(pool: GpuPool, startup: boolean): Promise<void> {
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
  protected load(unit: Unit, mode: LoadMode): Promise<void> {
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
  protected loadWithoutBudget(unit: Unit): Promise<void> {
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
  protected async loadNow(unit: Unit, mode: LoadMode): Promise<void> {
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

  protected noteLoadSpeed(unit: Unit): void {
    let speed = this.loadSpeed.get(unit.backend.id);
    if (!speed) this.loadSpeed.set(unit.backend.id, (speed = new Ewma()));
    speed.add(unit.measuredLoadMs! / Math.max(1, this.sizeOf(unit)));
  }

  /** A preload keeps its reason to run while it waited in the queue. */
  protected stillWorthIt(unit: Unit, victims: Unit[], mode: LoadMode): boolean {
    if (mode === 'startup' || victims.length === 0) return true;
    return this.unitRate(unit, this.now()) >= this.deps.options.preloadMinPerMinute;
  }

  /**
   * The units to evict so that `unit` fits, or undefined when it cannot. `demand`: idle units
   * scoring clearly below it; `forced` (no other deployment): any idle unit; `preload`: also
   * units streaming now (drained first) but loaded at least `minResidentMs` ago, scoring clearly
   * below it; `startup`: free memory only.
   */
  protected victimsFor(unit: Unit, mode: LoadMode): Unit[] | undefined {
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
  protected async evict(unit: Unit, drain: boolean): Promise<boolean> {
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
  protected async reconcile(pool: GpuPool): Promise<void> {
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
  protected async untilGone(unit: Unit): Promise<void> {
    const deadline = this.now() + this.deps.options.confirmTimeoutMs;
    while (await this.deps.control.inMemory(unit.backend, unit.model)) {
      if (this.now() >= deadline) throw new ProviderError('busy', `${unit.backend.id} still holds ${unit.key} ${this.deps.options.confirmTimeoutMs} ms after its unload`);
      await sleep(this.deps.options.confirmPollMs);
    }
    unit.confirmedAt = this.now();
  }

  /** Over budget by the backends' own reports: evicts idle units, lowest score first, until it fits. */
  protected enforceBudget(pool: GpuPool): Promise<void> {
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

  protected async enforceBudgets(): Promise<void> {
    await Promise.all([...new Set(this.pools.values())].map((pool) => (this.usedMb(pool) > pool.budgetMb ? this.enforceBudget(pool) : undefined)));
  }

  protected untilIdle(unit: Unit, timeoutMs: number): Promise<void> {
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

  protected wakeIdleWaiters(unit: Unit): void {
    const waiters = this.idleWaiters.get(unit);
    if (!waiters) return;
    this.idleWaiters.delete(unit);
    for (const wake of waiters) wake();
  }

  /** A unit found `unknown` or being unloaded by someone else: the next probe tells. */
  protected async untilSettled(unit: Unit): Promise<void> {
    if (unit.state === 'unloading') return;
    const present = await this.deps.control.inMemory(unit.backend, unit.model).catch(() => false);
    if (unit.state === 'unknown') this.setState(unit, present ? 'resident' : 'absent');
  }

  protected noRoom(unit: Unit): ProviderError {
    const pool = unit.pool!;
    return new ProviderError('busy', `${pool.id}: no room for ${unit.key} (${this.sizeOf(unit)} MiB) within ${pool.budgetMb} MiB: the rest is in use`);
  }

  protected queueOf(pool: GpuPool): PoolQueue {
    let queue = this.queues.get(pool.id);
    if (!queue) this.queues.set(pool.id, (queue = { tail: Promise.resolve(), pending: [] }));
    return queue;
  }

  protected queueMs(pool: GpuPool): number {
    const now = this.now();
    return this.queueOf(pool).pending.reduce((sum, p) => sum + Math.max(0, p.estimateMs - (p.startedAt ? now - p.startedAt : 0)), 0);
  }

  /** Until the unit's own queued or running load should be done. */
  protected remainingMs(unit: Unit): number {
    const pending = this.queueOf(unit.pool!).pending;
    const now = this.now();
    let sum = 0;
    for (const p of pending) {
      sum += Math.max(0, p.estimateMs - (p.startedAt ? now - p.startedAt : 0));
      if (p.unit === unit) break;
    }
    return sum;
  }
}
