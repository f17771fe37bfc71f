import { EventEmitter } from 'node:events';
import type { BackendConfig } from '../config/schema.js';
import { Ewma } from './admission.js';
import type { ArenaDeployment } from './catalog.js';
import { DecayingRate, type EvictionCandidate } from './eviction.js';
import { gpuPools, type GpuPool } from './gpu-pools.js';
import type { ProbeFacts } from './probe.js';
import type { Residency } from '../../src/lib/shared/status.js';
import { COLD_LOAD_MS_PER_MB, DEFAULT_SIZE_MB, holdsMemory, residencyOf, sameModel, WAKE_MS_PER_MB, type SwapDeps, type Unit, type UnitState } from './swap-types.js';

/**
 * What the swap manager knows (swap.ts has the overview): the units (an Ollama model, a vLLM
 * engine) and their state as probes report it, what each deployment is used for and how fast it
 * answers, and the memory accounting derived from that. SwapMover moves units in and out.
 */
export class SwapBook extends EventEmitter<{ change: [unitKey: string, residency: Residency] }> {
  protected readonly backends: Map<string, BackendConfig>;
  protected readonly pools: Map<string, GpuPool>;
  protected readonly units = new Map<string, Unit>();
  protected readonly usage = new Map<string, DecayingRate>();
  protected readonly ttft = new Map<string, Ewma>();
  /** ms per MiB of each backend's loads, for units not measured yet. */
  protected readonly loadSpeed = new Map<string, Ewma>();
  protected readonly inFlight = new Map<string, number>();
  protected readonly otherMb = new Map<string, number>();
  protected readonly now: () => number;

  constructor(protected readonly deps: SwapDeps) {
    super();
    this.backends = new Map(deps.backends.map((b) => [b.id, b]));
    this.pools = gpuPools(deps.gpus ?? [], deps.backends);
    this.now = deps.now ?? Date.now;
  }

  streamsInFlight(deployment: string): number {
    return this.inFlight.get(deployment) ?? 0;
  }

  protected settle(unit: Unit, state: UnitState): void {
    unit.settledAt = this.now();
    this.setState(unit, state);
  }

  protected setState(unit: Unit, state: UnitState): void {
    if (unit.state === state) return;
    unit.state = state;
    this.emit('change', unit.key, residencyOf(unit));
  }

  protected expectedTtft(deployment: string): number | undefined {
    const measured = this.ttft.get(deployment)?.get();
    if (measured === undefined) return undefined;
    const unit = this.unitOf(deployment);
    // A fallback that itself must load first is slower by that load.
    return unit?.pool && unit.state !== 'resident' ? measured + this.loadMsOf(unit) : measured;
  }

  /** Measured; else at the speed measured for the backend's other units; else the default speed. */
  protected loadMsOf(unit: Unit): number {
    if (unit.measuredLoadMs !== undefined) return unit.measuredLoadMs;
    const perMb = this.loadSpeed.get(unit.backend.id)?.get() ?? (unit.backend.kind === 'vllm' ? WAKE_MS_PER_MB : COLD_LOAD_MS_PER_MB);
    return this.sizeOf(unit) * perMb;
  }

  /** Free memory on the GPU, not counting `exclude` (it may be on its way out, or the one to load). */
  protected freeMb(pool: GpuPool, exclude?: Unit): number {
    return pool.budgetMb - this.usedMb(pool, exclude);
  }

  protected usedMb(pool: GpuPool, exclude?: Unit): number {
    return this.unitsIn(pool)
      .filter((u) => u !== exclude && holdsMemory(u))
      .reduce((sum, u) => sum + this.sizeOf(u), this.otherMbOf(pool));
  }

  protected otherMbOf(pool: GpuPool): number {
    return pool.backendIds.reduce((sum, id) => sum + (this.otherMb.get(id) ?? 0), 0);
  }

  protected leasesOf(unit: Unit): number {
    return this.deploymentsOf(unit).reduce((sum, d) => sum + this.streamsInFlight(d.key), 0);
  }

  protected candidate(unit: Unit): EvictionCandidate {
    return {
      key: unit.key,
      sizeMb: this.sizeOf(unit),
      ratePerMinute: this.unitRate(unit, this.now()),
      reloadCostMs: this.loadMsOf(unit),
      inFlight: this.leasesOf(unit),
    };
  }

  protected sizeOf(unit: Unit): number {
    if (unit.measuredSizeMb) return unit.measuredSizeMb;
    const declared = this.deploymentsOf(unit).reduce((sum, d) => sum + (d.sizeMb ?? 0), 0);
    if (declared > 0) return declared;
    return unit.backend.kind === 'vllm' ? (unit.pool?.budgetMb ?? DEFAULT_SIZE_MB) : DEFAULT_SIZE_MB;
  }

  protected unitRate(unit: Unit, now: number): number {
    return this.deploymentsOf(unit).reduce((sum, d) => sum + this.rateOf(d.key).perMinute(now), 0);
  }

  protected rateOf(deployment: string): DecayingRate {
    let rate = this.usage.get(deployment);
    if (!rate) this.usage.set(deployment, (rate = new DecayingRate(this.deps.options.usageHalfLifeMs)));
    return rate;
  }

  protected observeOnly(backend: BackendConfig, facts: ProbeFacts, probedAt: number): void {
    if (backend.kind === 'ollama' && facts.loaded) this.observeOllama(backend, facts.loaded, probedAt);
    if (backend.kind === 'vllm') this.observeVllm(backend, facts.sleeping, probedAt);
  }

  protected observeOllama(backend: BackendConfig, loaded: { model: string; sizeMb: number }[], probedAt: number): void {
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

  protected observeVllm(backend: BackendConfig, sleeping: boolean | undefined, probedAt: number): void {
    for (const unit of this.unitsOn(backend.id)) {
      unit.pinned = sleeping === undefined;
      if (this.fresh(unit, probedAt)) this.observed(unit, sleeping ? 'absent' : 'resident', probedAt);
    }
  }

  protected observed(unit: Unit, state: UnitState, probedAt: number): void {
    unit.confirmedAt = Math.max(unit.confirmedAt, probedAt);
    this.setState(unit, state);
  }

  /** A probe describes a unit only when no action of ours is under way or ended after it began. */
  protected fresh(unit: Unit, probedAt: number): boolean {
    return unit.state !== 'loading' && unit.state !== 'unloading' && !unit.loading && probedAt >= unit.settledAt;
  }

  protected unitOf(deployment: string): Unit | undefined {
    const d = this.deps.deployments().find((x) => x.key === deployment);
    return d ? this.unitFor(d) : undefined;
  }

  protected unitsIn(pool: GpuPool): Unit[] {
    return pool.backendIds.flatMap((id) => this.unitsOn(id));
  }

  protected unitsOn(backendId: string): Unit[] {
    const seen = new Set<Unit>();
    for (const d of this.deps.deployments()) {
      if (d.backendId !== backendId) continue;
      const unit = this.unitFor(d);
      if (unit) seen.add(unit);
    }
    return [...seen];
  }

  /** vLLM: one unit per engine; Ollama: one per model; OpenAI: none (always ready). */
  protected unitFor(d: ArenaDeployment): Unit | undefined {
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

  protected deploymentsOf(unit: Unit): ArenaDeployment[] {
    const keys = new Set<string>();
    return this.deps.deployments().filter((d) => {
      if (d.backendId !== unit.backend.id || keys.has(d.key)) return false;
      keys.add(d.key);
      return unit.backend.kind === 'vllm' || d.key === unit.key;
    });
  }
}
