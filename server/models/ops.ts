import type { Config } from '../config/schema.js';
import type { Logger } from '../infra/log.js';
import { backendApiKey } from '../providers/index.js';
import type { ArenaDeployment, ArenaModel } from './catalog.js';
import { createEngineControl } from './engine-control.js';
import type { AttemptHooks } from './failover.js';
import { HealthMonitor, routeByHealth } from './health.js';
import { probeBackend } from './probe.js';
import type { ModelRegistry } from './registry.js';
import type { StatusSnapshot } from '../../src/lib/shared/status.js';
import { StatusBoard, type StateChange } from './status.js';
import { DEFAULT_SWAP_OPTIONS, SwapManager, type SwapOptions } from './swap.js';
import { runInBackground } from '../background.js';

/**
 * Model operations, wired into the registry: health probes and breakers decide the routing
 * (down deployments skipped, down models not paired), every attempt reports its outcome, the
 * swap manager loads what a request needs and keeps GPU memory within budget, and a status
 * board tells what all of it looks like.
 */

export interface ModelOpsOptions {
  config: Pick<Config, 'backends' | 'health' | 'timeouts'> & Partial<Pick<Config, 'gpus'>>;
  registry: ModelRegistry;
  logger: Logger;
  swap?: Partial<SwapOptions>;
  env?: NodeJS.ProcessEnv;
}

export type StatusListener = (snapshot: StatusSnapshot, changes: StateChange[]) => void;

export interface ModelOps {
  /** Probes every backend once (routing is health-aware from then on), then starts preloading. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): StatusSnapshot;
  /** A deployment's state moved (down, degraded, sleeping, loading, healthy). */
  on(event: 'change', listener: StatusListener): ModelOps;
  off(event: 'change', listener: StatusListener): ModelOps;
  readonly health: HealthMonitor;
  readonly swap: SwapManager;
}

export function createModelOps({ config, registry, logger, swap: swapOptions, env }: ModelOpsOptions): ModelOps {
  const log = logger.child({ component: 'model-ops' });
  const deployments = discoveredDeployments(registry);
  const health = new HealthMonitor({ backends: config.backends, deployments, options: config.health, env, log });
  const swap = new SwapManager({
    backends: config.backends,
    gpus: config.gpus,
    deployments,
    control: createEngineControl({ timeoutMs: config.timeouts.firstTokenMs, apiKey: (b) => backendApiKey(b, env) }),
    options: { ...DEFAULT_SWAP_OPTIONS, ...swapOptions },
    log,
    report: async (backend) => {
      const result = await probeBackend(backend, { timeoutMs: config.health.timeoutMs, apiKey: backendApiKey(backend, env) });
      return result.ok ? result.facts : undefined;
    },
  });
  const route = routeFor(health, swap);
  const board = new StatusBoard({ backends: config.backends, models: () => registry.discoveredModels(), route, health, swap, log });

  health.on('probe', (backendId, result, startedAt) => {
    if (result.ok) swap.observe(backendId, result.facts, startedAt);
  });
  // Discovery runs every 30 s or so; a backend that comes back should not wait that long.
  health.on('reachable', (backendId, reachable) => {
    if (reachable) registry.refresh().catch((err: unknown) => log.error({ err, backend: backendId }, 'refresh after recovery failed'));
  });
  const refreshBoard = () => board.refresh();
  health.on('change', refreshBoard);
  swap.on('change', refreshBoard);
  registry.on('change', refreshBoard);

  const ops: ModelOps = {
    health,
    swap,
    async start() {
      registry.setDeploymentPicker(route);
      registry.setAttemptHooks(attemptHooks(health, swap));
      await health.start();
      board.refresh();
      runInBackground(swap.start(), log, 'start-up preload');
    },
    async stop() {
      health.stop();
      swap.stop();
      health.off('change', refreshBoard);
      swap.off('change', refreshBoard);
      registry.off('change', refreshBoard);
    },
    status: () => board.snapshot(),
    on(event, listener) {
      board.on(event, listener);
      return ops;
    },
    off(event, listener) {
      board.off(event, listener);
      return ops;
    },
  };
  return ops;
}

/**
 * Healthy first (see routeByHealth); a GPU deployment goes behind the next one when waiting for
 * its load would be slower than that one's first token or would push out units worth more
 * (the swap manager's admission), or when it has no room until a stream ends.
 */
function routeFor(health: HealthMonitor, swap: SwapManager): (model: ArenaModel) => ArenaDeployment[] {
  const byHealth = routeByHealth(health);
  return (model) => {
    const order = byHealth(model);
    const ready = order.filter((d, i) => swap.canServeNow(d.key) && !swap.deferred(d.key, order[i + 1]?.key));
    return [...ready, ...order.filter((d) => !ready.includes(d))];
  };
}

function attemptHooks(health: HealthMonitor, swap: SwapManager): AttemptHooks {
  return {
    request: (deployments) => swap.request(deployments),
    check: (deployment) => swap.check(deployment),
    firstToken: (deployment, ms) => swap.firstToken(deployment, ms),
    prepare: (deployment, signal) => swap.prepare(deployment, signal),
    begin(deployment) {
      const endStream = swap.begin(deployment);
      return (outcome) => {
        endStream();
        health.recordOutcome(deployment, outcome);
      };
    },
  };
}

/** Every discovered deployment once, recomputed only when discovery replaced the catalog. */
function discoveredDeployments(registry: ModelRegistry): () => ArenaDeployment[] {
  let models: ArenaModel[] | undefined;
  let deployments: ArenaDeployment[] = [];
  return () => {
    const current = registry.discoveredModels();
    if (current !== models) {
      models = current;
      deployments = [...new Map(current.flatMap((m) => m.deployments).map((d) => [d.key, d])).values()];
    }
    return deployments;
  };
}
