import { EventEmitter } from 'node:events';
import type { BackendConfig } from '../config/schema.js';
import type { Logger } from '../infra/log.js';
import { displayUrl } from '../providers/urls.js';
import type { ArenaDeployment, ArenaModel } from './catalog.js';
import type { Health, HealthMonitor } from './health.js';
import type { SwapManager } from './swap.js';
import type {
  BackendSnapshot,
  DeploymentSnapshot,
  DeploymentState,
  Residency,
  StatusSnapshot,
} from '../../src/lib/shared/status.js';

/**
 * What `GET /api/status` answers: every backend and deployment with its state, last error,
 * latency, queue depth, what is loaded and the memory use of each GPU backend; never a
 * credential. Also the one place where a deployment's state (health combined with residency)
 * is decided, logged when it moves, and announced with a fresh snapshot.
 */

export interface StateChange {
  deployment: string;
  before: DeploymentState | 'unknown';
  after: DeploymentState;
  reason?: string;
}

export function deploymentState(health: Health, residency: Residency | undefined): DeploymentState {
  if (health === 'down') return 'down';
  if (residency === 'loading') return 'loading';
  if (residency === 'sleeping') return 'sleeping';
  return health;
}

export interface StatusDeps {
  backends: BackendConfig[];
  models: () => ArenaModel[];
  route: (model: ArenaModel) => ArenaDeployment[];
  health: HealthMonitor;
  swap: SwapManager;
  log: Logger;
}

export class StatusBoard extends EventEmitter<{ change: [snapshot: StatusSnapshot, changes: StateChange[]] }> {
  private readonly states = new Map<string, DeploymentState>();

  constructor(private readonly deps: StatusDeps) {
    super();
  }

  snapshot(): StatusSnapshot {
    const models = this.deps.models();
    return {
      generatedAt: new Date().toISOString(),
      backends: this.deps.backends.map((b) => this.backendSnapshot(b, models)),
      models: models.map((m) => {
        const route = this.deps.route(m).map((d) => d.key);
        return { id: m.id, label: m.label, available: route.length > 0, route };
      }),
    };
  }

  /** Recomputes every deployment's state; logs and announces the ones that moved. */
  refresh(): void {
    const snapshot = this.snapshot();
    const changes: StateChange[] = [];
    for (const d of snapshot.backends.flatMap((b) => b.deployments)) {
      const before = this.states.get(d.key) ?? 'unknown';
      if (before === d.state) continue;
      this.states.set(d.key, d.state);
      changes.push({ deployment: d.key, before, after: d.state, reason: d.reason });
    }
    for (const change of changes) this.logChange(change);
    if (changes.length > 0) this.emit('change', snapshot, changes);
  }

  private logChange(change: StateChange): void {
    const fields = { deployment: change.deployment, before: change.before, after: change.after, reason: change.reason };
    if (change.after === 'down' || change.after === 'degraded') this.deps.log.warn(fields, 'deployment state changed');
    else this.deps.log.info(fields, 'deployment state changed');
  }

  private backendSnapshot(backend: BackendConfig, models: ArenaModel[]): BackendSnapshot {
    const health = this.deps.health.backend(backend.id);
    const scrub = (text: string | undefined) => text && withoutCredentials(text);
    return {
      id: backend.id,
      kind: backend.kind,
      url: displayUrl(backend.url),
      gpu: backend.gpu,
      demo: backend.demo,
      reachable: health?.reachable ?? null,
      checkedAt: isoOrNull(health?.checkedAt),
      latencyMs: health?.latencyMs ?? null,
      lastError: scrub(health?.lastError),
      lastErrorAt: isoOrNull(health?.lastErrorAt) ?? undefined,
      recovery: health?.recovery,
      sleeping: health?.facts.sleeping,
      loaded: health?.facts.loaded,
      memory: this.deps.swap.memory(backend.id),
      deployments: deploymentsOn(backend.id, models).map(({ deployment, serves }) => {
        const d = this.deploymentSnapshot(deployment, serves);
        return { ...d, reason: scrub(d.reason), lastError: scrub(d.lastError) };
      }),
    };
  }

  private deploymentSnapshot(deployment: ArenaDeployment, serves: string[]): DeploymentSnapshot {
    const { health, swap } = this.deps;
    const h = health.deployment(deployment.key);
    const residency = swap.residency(deployment.key);
    return {
      key: deployment.key,
      model: deployment.model,
      serves,
      state: deploymentState(h.health, residency),
      reason: h.reason,
      lastError: h.lastError,
      residency,
      queueDepth: h.waiting,
      inFlight: swap.streamsInFlight(deployment.key),
      ratePerMinute: round(swap.ratePerMinute(deployment.key)),
    };
  }
}

/** Each deployment on the backend once, with every arena model it serves. */
function deploymentsOn(backendId: string, models: ArenaModel[]): Array<{ deployment: ArenaDeployment; serves: string[] }> {
  const byKey = new Map<string, { deployment: ArenaDeployment; serves: string[] }>();
  for (const model of models) {
    for (const deployment of model.deployments) {
      if (deployment.backendId !== backendId) continue;
      const entry = byKey.get(deployment.key) ?? { deployment, serves: [] };
      entry.serves.push(model.id);
      byKey.set(deployment.key, entry);
    }
  }
  return [...byKey.values()];
}

/** Error texts may quote a URL, which can carry `user:password@`. */
function withoutCredentials(text: string): string {
  return text.replace(/\/\/[^/\s@]+@/g, '//');
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
