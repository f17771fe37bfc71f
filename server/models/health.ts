import { EventEmitter } from 'node:events';
import type { BackendConfig, Config } from '../config/schema.js';
import { ProviderError, type ProviderErrorCode } from '../providers/errors.js';
import { backendApiKey } from '../providers/index.js';
import { Breaker, type FailureSeverity } from './breaker.js';
import type { ArenaDeployment, ArenaModel } from './catalog.js';
import type { AttemptOutcome } from './failover.js';
import { probeBackend, type ProbeFacts, type ProbeResult } from './probe.js';
import { silentLogger, type Logger } from '../infra/log.js';
import { runInBackground } from '../background.js';

/**
 * Whether each deployment can take traffic. Every backend is probed on its own timer; two
 * breakers decide: the backend's (fed by probes and refused connections: is the server there?)
 * and the deployment's (fed by real request outcomes: does this model answer?). Either open
 * means `down`. A failed request triggers an early probe, so a crash is confirmed in
 * milliseconds rather than one interval later.
 */

export type Health = 'healthy' | 'degraded' | 'down';

export type HealthOptions = Config['health'];

export interface BackendHealth {
  id: string;
  /** null until the first probe answers or fails. */
  reachable: boolean | null;
  checkedAt?: number;
  latencyMs?: number;
  lastError?: string;
  lastErrorAt?: number;
  facts: ProbeFacts;
  /** While its breaker is open: good probes so far, and how many it takes to close. */
  recovery?: { good: number; needed: number };
}

export interface DeploymentHealth {
  key: string;
  backendId: string;
  health: Health;
  /** Why it is down or degraded. */
  reason?: string;
  lastError?: string;
  waiting?: number;
}

export interface HealthChange {
  deployment: string;
  before: Health;
  after: Health;
  reason?: string;
}

export interface HealthDeps {
  backends: BackendConfig[];
  /** Every discovered deployment, the same array until discovery changes it; each one seen stays tracked. */
  deployments: () => ArenaDeployment[];
  options: HealthOptions;
  env?: NodeJS.ProcessEnv;
  /** Where a failed scheduled probe is reported. */
  log?: Logger;
}

/** Which failures count against a deployment; others (the caller's cancel, a bad request) do not. */
const SEVERITY: Partial<Record<ProviderErrorCode, FailureSeverity>> = {
  connection_refused: 'hard',
  busy: 'hard',
  server_error: 'soft',
  connection_reset: 'soft',
  malformed: 'soft',
  connect_timeout: 'soft',
  first_token_timeout: 'soft',
  idle_timeout: 'soft',
  too_slow: 'soft',
  auth: 'soft',
};

/** Failures that say nothing about the backend: neither counted nor followed by an early probe. */
const NOT_THE_BACKEND = new Set<ProviderErrorCode>(['aborted', 'bad_request', 'model_not_found']);

/** At most one early probe per backend this often, however many requests fail. */
const EARLY_PROBE_GAP_MS = 1_000;

interface BackendTrack {
  config: BackendConfig;
  breaker: Breaker;
  state: BackendHealth;
  timer?: NodeJS.Timeout;
  /** performance.now() of the next scheduled probe. */
  nextProbeAt: number;
  probing?: Promise<void>;
  lastProbeAt: number;
}

interface DeploymentTrack {
  backendId: string;
  model: string;
  breaker: Breaker;
  lastError?: string;
  health: Health;
}

export class HealthMonitor extends EventEmitter<{
  change: [HealthChange];
  probe: [backendId: string, result: ProbeResult, startedAt: number];
  reachable: [backendId: string, reachable: boolean];
}> {
  private readonly backends = new Map<string, BackendTrack>();
  private readonly deploymentTracks = new Map<string, DeploymentTrack>();
  private running = false;
  private lastDiscovered: ArenaDeployment[] | undefined;

  constructor(private readonly deps: HealthDeps) {
    super();
    for (const config of deps.backends) {
      const state: BackendHealth = { id: config.id, reachable: null, facts: {} };
      this.backends.set(config.id, { config, breaker: this.newBreaker(), state, lastProbeAt: -Infinity, nextProbeAt: Infinity });
    }
  }

  /** Probes every backend once (resolves when all have answered or timed out), then keeps probing. */
  async start(): Promise<void> {
    this.running = true;
    await Promise.all([...this.backends.keys()].map((id) => this.probeNow(id)));
  }

  stop(): void {
    this.running = false;
    for (const track of this.backends.values()) clearTimeout(track.timer);
  }

  /** Probes a backend now (sharing a probe already in flight) and restarts its interval. */
  probeNow(backendId: string): Promise<void> {
    const track = this.backends.get(backendId);
    if (!track) return Promise.resolve();
    track.probing ??= this.probe(track).finally(() => {
      track.probing = undefined;
      this.schedule(track);
    });
    return track.probing;
  }

  /** Feeds one attempt's outcome (from the registry's attempt hooks). */
  recordOutcome(key: string, outcome: AttemptOutcome): void {
    const track = this.deploymentTrack(key);
    if (!track) return;
    const slow = outcome.ok ? tooSlow(outcome, this.deps.options.minTokensPerSecond) : undefined;
    if (slow) {
      this.recordFailure(track, { ok: false, phase: 'stream', error: slow });
    } else if (outcome.ok) {
      track.breaker.requestSucceeded();
      this.backends.get(track.backendId)?.breaker.requestSucceeded();
    } else {
      this.recordFailure(track, outcome);
    }
    this.evaluate(track.backendId);
  }

  deployment(key: string): DeploymentHealth {
    const track = this.deploymentTrack(key);
    if (!track) return { key, backendId: key.split('/')[0]!, health: 'healthy' };
    const { health, reason } = this.assess(track);
    const waiting = this.waitingFor(track);
    return { key, backendId: track.backendId, health, reason, lastError: track.lastError, waiting };
  }

  backend(id: string): BackendHealth | undefined {
    const track = this.backends.get(id);
    if (!track) return undefined;
    return track.breaker.state === 'open' ? { ...track.state, recovery: track.breaker.recovery } : { ...track.state };
  }

  private recordFailure(track: DeploymentTrack, outcome: Extract<AttemptOutcome, { ok: false }>): void {
    const { code, message } = outcome.error;
    if (NOT_THE_BACKEND.has(code)) return;
    const severity = SEVERITY[code];
    const backend = this.backends.get(track.backendId)!;
    // A load that failed tells nothing about the model itself; the early probe finds out about the server.
    if (outcome.phase === 'stream' && severity) {
      track.breaker.failure(severity);
      track.lastError = message;
      // Nobody listens on that port: the whole backend is gone, not just this model.
      if (code === 'connection_refused') {
        backend.breaker.failure('hard');
        backend.state = { ...backend.state, lastError: message, lastErrorAt: Date.now() };
      }
    }
    this.probeSoon(backend);
  }

  /** An early probe, no sooner than EARLY_PROBE_GAP_MS after the last one. */
  private probeSoon(track: BackendTrack): void {
    if (track.probing || !this.running) return;
    const gap = Math.min(EARLY_PROBE_GAP_MS, this.deps.options.intervalMs);
    const delay = Math.max(0, track.lastProbeAt + gap - performance.now());
    if (performance.now() + delay < track.nextProbeAt) this.schedule(track, delay);
  }

  private async probe(track: BackendTrack): Promise<void> {
    const startedAt = Date.now();
    track.lastProbeAt = performance.now();
    const result = await probeBackend(track.config, { timeoutMs: this.deps.options.timeoutMs, apiKey: backendApiKey(track.config, this.deps.env) });
    const wasReachable = track.state.reachable;
    this.apply(track, result, startedAt);
    this.emit('probe', track.config.id, result, startedAt);
    // From a known state only: at start-up the registry has just discovered every backend.
    if (wasReachable !== null && wasReachable !== result.ok) this.emit('reachable', track.config.id, result.ok);
    this.evaluate(track.config.id);
  }

  private apply(track: BackendTrack, result: ProbeResult, startedAt: number): void {
    const deployments = this.tracksOf(track.config.id);
    track.state = { ...track.state, reachable: result.ok, checkedAt: startedAt, latencyMs: Math.round(result.latencyMs) };
    if (result.ok) {
      track.state.facts = result.facts;
      track.breaker.goodProbe();
      for (const d of deployments) d.breaker.goodProbe();
    } else {
      track.state.lastError = result.error.message;
      track.state.lastErrorAt = startedAt;
      track.breaker.failure(SEVERITY[result.error.code] ?? 'soft', 'probe');
      for (const d of deployments) d.breaker.badProbe();
    }
  }

  /** Recomputes the backend's deployments and announces every one whose health moved. */
  private evaluate(backendId: string): void {
    this.trackDiscovered();
    for (const [key, track] of this.deploymentTracks) {
      if (track.backendId !== backendId) continue;
      const { health, reason } = this.assess(track);
      if (health === track.health) continue;
      const change: HealthChange = { deployment: key, before: track.health, after: health, reason };
      track.health = health;
      this.emit('change', change);
    }
  }

  private assess(track: DeploymentTrack): { health: Health; reason?: string } {
    const backend = this.backends.get(track.backendId)!;
    if (backend.breaker.state === 'open') return { health: 'down', reason: recoveryReason(backend.state.lastError, backend.breaker.recovery) };
    if (track.breaker.state === 'open') return { health: 'down', reason: recoveryReason(track.lastError, track.breaker.recovery) };
    const waiting = this.waitingFor(track);
    if (waiting !== undefined && waiting > this.deps.options.degradedQueueDepth) return { health: 'degraded', reason: `${waiting} requests waiting` };
    return { health: 'healthy' };
  }

  private waitingFor(track: DeploymentTrack): number | undefined {
    return this.backends.get(track.backendId)?.state.facts.waiting?.[track.model];
  }

  private deploymentTrack(key: string): DeploymentTrack | undefined {
    this.trackDiscovered();
    return this.deploymentTracks.get(key);
  }

  private trackDiscovered(): void {
    const deployments = this.deps.deployments();
    if (deployments === this.lastDiscovered) return;
    this.lastDiscovered = deployments;
    for (const d of deployments) {
      if (this.deploymentTracks.has(d.key) || !this.backends.has(d.backendId)) continue;
      this.deploymentTracks.set(d.key, { backendId: d.backendId, model: d.model, breaker: this.newBreaker(), health: 'healthy' });
    }
  }

  private tracksOf(backendId: string): DeploymentTrack[] {
    this.trackDiscovered();
    return [...this.deploymentTracks.values()].filter((t) => t.backendId === backendId);
  }

  private schedule(track: BackendTrack, delay = this.deps.options.intervalMs): void {
    clearTimeout(track.timer);
    track.nextProbeAt = Infinity;
    if (!this.running) return;
    track.nextProbeAt = performance.now() + delay;
    track.timer = setTimeout(() => runInBackground(this.probeNow(track.config.id), this.deps.log ?? silentLogger, 'health probe', { backend: track.config.id }), delay);
    track.timer.unref();
  }

  private newBreaker(): Breaker {
    const { openAfter, closeAfter, intervalMs, coolDownMs = (closeAfter - 1) * intervalMs } = this.deps.options;
    return new Breaker({ openAfter, closeAfter, coolDownMs });
  }
}

/**
 * The routing policy: a model's deployments in its preference order, down ones left out and
 * degraded ones (a long queue) moved behind the healthy ones, where failover still reaches them.
 */
export function routeByHealth(monitor: HealthMonitor): (model: ArenaModel) => ArenaDeployment[] {
  return (model) => {
    const health = new Map(model.deployments.map((d) => [d.key, monitor.deployment(d.key).health]));
    const tier = (state: Health) => model.deployments.filter((d) => health.get(d.key) === state);
    return [...tier('healthy'), ...tier('degraded')];
  };
}

/** Shorter answers say too little about speed (the first token's wait weighs too much). */
const MIN_TOKENS_FOR_SPEED = 16;

/** A served answer generated below the configured rate: a soft failure (the answer itself stands). */
function tooSlow(outcome: Extract<AttemptOutcome, { ok: true }>, minTokensPerSecond: number): ProviderError | undefined {
  const { tokens, tokensPerSecond } = outcome;
  if (!minTokensPerSecond || tokens === undefined || tokensPerSecond === undefined || tokens < MIN_TOKENS_FOR_SPEED) return undefined;
  if (tokensPerSecond >= minTokensPerSecond) return undefined;
  return new ProviderError('too_slow', `${tokensPerSecond.toFixed(1)} tokens/s, below the minimum of ${minTokensPerSecond}`);
}

function recoveryReason(lastError: string | undefined, recovery: { good: number; needed: number }): string {
  const progress = recovery.good > 0 ? ` (recovering: ${recovery.good}/${recovery.needed} good probes)` : '';
  return `${lastError ?? 'failing'}${progress}`;
}
