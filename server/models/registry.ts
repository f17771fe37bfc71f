import { EventEmitter } from 'node:events';
import type { BackendConfig, Config } from '../config/schema.js';
import type { Logger } from '../infra/log.js';
import { ProviderError } from '../providers/errors.js';
import { backendApiKey, createProvider } from '../providers/index.js';
import type { ChatRequest, Provider } from '../providers/types.js';
import { buildCatalog, type ArenaDeployment, type ArenaModel, type Availability, type Catalog, type ModelReport } from './catalog.js';
import { discoverBackend, type DiscoveryResult } from './discovery.js';
import { NO_HOOKS, streamWithFailover, type AttemptHooks, type RoutedPart } from './failover.js';
import { runInBackground } from '../background.js';

/**
 * Which arena models exist right now and where they run. Refreshes by asking every backend (in
 * parallel, each bounded by the discovery timeout), reports every configured model with the
 * reason it is missing, emits 'change' when availability moves, and is the one call site that
 * streams any model (`stream`), failing over between its deployments.
 */

export type RegistryConfig = Pick<Config, 'backends' | 'models' | 'discovery' | 'timeouts'>;

/**
 * The routing policy: which of a model's discovered deployments to try, in order. A model it
 * leaves no deployment for is not available (the arena does not pair it).
 */
export type DeploymentPicker = (model: ArenaModel) => ArenaDeployment[];

export interface RegistryOptions {
  env?: NodeJS.ProcessEnv;
  /** Replaces the provider built from a backend's config (tests, demo). */
  providerFor?: (backend: BackendConfig) => Provider;
  pickDeployments?: DeploymentPicker;
}

/** One model whose availability or serving deployments changed; `absent` = not known before / no longer listed. */
export interface ModelChange {
  id: string;
  before: Availability | 'absent';
  after: Availability | 'absent';
  /** Available deployments after the change, in preference order. */
  deployments: string[];
  reason?: string;
}

const preferenceOrder: DeploymentPicker = (model) => model.deployments;

export class ModelRegistry extends EventEmitter<{ change: [ModelChange[]] }> {
  private catalog: Catalog;
  private readonly providers: Map<string, Provider>;
  private readonly env: NodeJS.ProcessEnv;
  private pick: DeploymentPicker;
  private hooks: AttemptHooks = NO_HOOKS;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshed = false;

  constructor(
    private readonly config: RegistryConfig,
    private readonly log: Logger,
    opts: RegistryOptions = {},
  ) {
    super();
    this.env = opts.env ?? process.env;
    this.pick = opts.pickDeployments ?? preferenceOrder;
    const build = opts.providerFor ?? ((b: BackendConfig) => createProvider(b, { timeouts: config.timeouts, env: this.env }));
    this.providers = new Map(config.backends.map((b) => [b.id, build(b)]));
    this.catalog = buildCatalog(config.backends, config.models, new Map(), null);
  }

  /** Runs discovery now; concurrent callers share the one refresh in flight. */
  refresh(): Promise<void> {
    this.refreshing ??= this.discoverAndMerge().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Refreshes every `intervalMs` (await `refresh()` first for an answer right away). */
  start(intervalMs: number = this.config.discovery.intervalMs): void {
    this.stop();
    // A throwing 'change' listener must not become an unhandled rejection.
    this.timer = setInterval(() => runInBackground(this.refresh(), this.log, 'model refresh'), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Models the routing policy can serve right now. */
  availableModels(): ArenaModel[] {
    return this.catalog.models.filter((m) => this.pick(m).length > 0);
  }

  /** Every model with at least one discovered deployment, whatever its health. */
  discoveredModels(): ArenaModel[] {
    return this.catalog.models;
  }

  model(id: string): ArenaModel | undefined {
    return this.catalog.models.find((m) => m.id === id);
  }

  toolCapableModels(): ArenaModel[] {
    return this.availableModels().filter((m) => m.capabilities.includes('tools'));
  }

  /** For `GET /api/models`: every model and backend with its status; never any credential. */
  report(): ModelReport {
    return this.catalog.report;
  }

  /** Lets a health monitor or circuit breaker decide the deployment order. */
  setDeploymentPicker(pick: DeploymentPicker): void {
    this.pick = pick;
  }

  /** Lets health and the swap manager see every attempt's outcome and ready a deployment first. */
  setAttemptHooks(hooks: AttemptHooks): void {
    this.hooks = hooks;
  }

  /** Streams an answer from a logical model, trying its deployments in the picker's order. */
  stream(modelId: string, req: Omit<ChatRequest, 'model'>): AsyncIterable<RoutedPart> {
    const model = this.model(modelId);
    if (!model) return failed(new ProviderError('model_not_found', this.unavailableMessage(modelId)));
    const targets = this.pick(model).flatMap((d) => {
      const provider = this.providers.get(d.backendId);
      return provider ? [{ deployment: d.key, model: d.model, provider }] : [];
    });
    if (targets.length === 0) return failed(new ProviderError('busy', `every deployment of "${modelId}" is down right now`));
    return streamWithFailover(targets, req, this.log, this.hooks);
  }

  private unavailableMessage(modelId: string): string {
    const status = this.catalog.report.models.find((m) => m.id === modelId);
    if (!status) return `unknown model "${modelId}"`;
    return `model "${modelId}" is not available: ${status.reason ?? 'no deployment'}`;
  }

  private async discoverAndMerge(): Promise<void> {
    const { backends, models, discovery } = this.config;
    const results = await Promise.all(
      backends.map(async (b) => {
        const result = await discoverBackend(b, { timeoutMs: discovery.timeoutMs, apiKey: backendApiKey(b, this.env) });
        return [b.id, result] as [string, DiscoveryResult];
      }),
    );
    const next = buildCatalog(backends, models, new Map(results), new Date(), { ...discovery, ids: this.catalog.autoIds });
    const first = !this.refreshed;
    const changes = diffModels(this.catalog, next, first);
    this.logBackendChanges(this.catalog.report, next.report, first);
    this.catalog = next;
    this.refreshed = true;
    this.logModelChanges(changes, first);
    if (changes.length > 0) this.emit('change', changes);
  }

  private logModelChanges(changes: ModelChange[], first: boolean): void {
    for (const change of changes) {
      const fields = { model: change.id, before: change.before, after: change.after, deployments: change.deployments };
      if (change.after === 'available') this.log.info(fields, first ? 'model available' : 'model availability changed');
      else this.log.warn({ ...fields, reason: change.reason }, change.after === 'missing' ? 'model missing' : 'model no longer discovered');
    }
  }

  private logBackendChanges(before: ModelReport, after: ModelReport, first: boolean): void {
    for (const backend of after.backends) {
      const was = before.backends.find((b) => b.id === backend.id);
      if (!first && was?.ok === backend.ok) continue;
      const fields = { backend: backend.id, url: backend.url, models: backend.models.length };
      if (backend.ok) this.log.info(fields, 'backend reachable');
      else this.log.warn({ ...fields, err: backend.error }, 'backend unreachable');
    }
  }
}

/** On the first refresh every model counts as new, so each one is logged and announced once. */
function diffModels(before: Catalog, after: Catalog, first: boolean): ModelChange[] {
  const previous = first ? [] : before.report.models;
  const ids = new Set([...previous.map((m) => m.id), ...after.report.models.map((m) => m.id)]);
  return [...ids].flatMap((id) => {
    const now = after.report.models.find((m) => m.id === id);
    const change: ModelChange = {
      id,
      before: previous.find((m) => m.id === id)?.status ?? 'absent',
      after: now?.status ?? 'absent',
      deployments: servingDeployments(after, id),
      reason: now?.reason,
    };
    const unchanged = change.before === change.after && servingDeployments(before, id).join('\n') === change.deployments.join('\n');
    return unchanged ? [] : [change];
  });
}

function servingDeployments(catalog: Catalog, id: string): string[] {
  return catalog.models.find((m) => m.id === id)?.deployments.map((d) => d.key) ?? [];
}

async function* failed(error: ProviderError): AsyncGenerator<RoutedPart> {
  yield { type: 'error', error };
}
