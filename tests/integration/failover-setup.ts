import { ConfigSchema, type Config } from '../../server/config/schema.js';
import type { RoutedPart } from '../../server/models/failover.js';
import { createModelOps, type ModelOps } from '../../server/models/ops.js';
import { ModelRegistry } from '../../server/models/registry.js';
import type { DeploymentState } from '../../src/lib/shared/status.js';
import type { SwapOptions } from '../../server/models/swap.js';
import { silentLogger } from '../../server/infra/log.js';

/** Shared by the health/failover and swap test files: a registry with model ops, wired as the app does. */

export interface OpsHarness {
  config: Config;
  registry: ModelRegistry;
  ops: ModelOps;
  close(): Promise<void>;
}

export async function startOps(raw: Record<string, unknown>, swap: Partial<SwapOptions> = {}): Promise<OpsHarness> {
  const config = ConfigSchema.parse({ timeouts: { connectMs: 2_000, firstTokenMs: 2_000, idleMs: 2_000 }, ...raw });
  const registry = new ModelRegistry(config, silentLogger);
  await registry.refresh();
  const ops = createModelOps({ config, registry, logger: silentLogger, swap: { preloadOnStart: false, rebalanceMs: 0, ...swap } });
  await ops.start();
  return { config, registry, ops, close: () => ops.stop() };
}

export function stateOf(ops: ModelOps, deployment: string): DeploymentState | undefined {
  return ops
    .status()
    .backends.flatMap((b) => b.deployments)
    .find((d) => d.key === deployment)?.state;
}

/** Resolves once the deployment is in `state` (checked now and on every status change). */
export function untilState(ops: ModelOps, deployment: string, state: DeploymentState, timeoutMs = 5_000): Promise<void> {
  if (stateOf(ops, deployment) === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ops.off('change', check);
      reject(new Error(`${deployment} did not become ${state} (is ${stateOf(ops, deployment)})`));
    }, timeoutMs);
    const check = () => {
      if (stateOf(ops, deployment) !== state) return;
      clearTimeout(timer);
      ops.off('change', check);
      resolve();
    };
    ops.on('change', check);
  });
}

/** The deployments a new request for `model` would try, in order. */
export function routeOf(ops: ModelOps, model: string): string[] {
  return ops.status().models.find((m) => m.id === model)?.route ?? [];
}

export const routeParts = (parts: RoutedPart[]) => parts.filter((p) => p.type === 'route');
export const textOf = (parts: RoutedPart[]) => parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
export const errorOf = (parts: RoutedPart[]) => parts.find((p) => p.type === 'error');
