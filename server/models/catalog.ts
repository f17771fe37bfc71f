import type { BackendConfig, DeploymentConfig, ModelConfig } from '../config/schema.js';
import { displayUrl } from '../providers/urls.js';
import type { DiscoveredModel, DiscoveryResult } from './discovery.js';
import { groupKeyFor } from './model-identity.js';

/**
 * Merges what the backends said into arena models. Pure: config + discovery results in, the
 * routable models and a human-readable report out. Configured models are never dropped
 * silently: each one that cannot be served carries the reason why.
 */

export interface ArenaDeployment {
  /** `${backendId}/${model}`: how routes and reports name it. */
  key: string;
  backendId: string;
  /** The name the backend knows the model by. */
  model: string;
  gpu: boolean;
  capabilities: string[];
  contextLength?: number;
  /** Memory when loaded (MiB): the config's `sizeMb`, else what discovery read off the backend. */
  sizeMb?: number;
}

export interface ArenaModel {
  id: string;
  label: string;
  /** Available deployments only, in preference order. */
  deployments: ArenaDeployment[];
  capabilities: string[];
  /** The smallest known context among the deployments, so any of them can take a request. */
  contextLength?: number;
  leakWords?: string[];
}

export type Availability = 'available' | 'missing';

export interface DeploymentStatus {
  deployment: string;
  backend: string;
  model: string;
  status: Availability;
  reason?: string;
}

export interface ModelStatus {
  id: string;
  label: string;
  status: Availability;
  /** Why a missing model cannot be served. */
  reason?: string;
  deployments: DeploymentStatus[];
  capabilities: string[];
  contextLength?: number;
}

export interface BackendStatus {
  id: string;
  kind: BackendConfig['kind'];
  /** Without any credentials the URL may carry. */
  url: string;
  gpu: boolean;
  demo: boolean;
  ok: boolean;
  error?: string;
  models: string[];
}

export interface ModelReport {
  /** `auto`: no models configured, every discovered chat model is an arena model. */
  mode: 'configured' | 'auto';
  refreshedAt: string | null;
  models: ModelStatus[];
  backends: BackendStatus[];
}

export interface Catalog {
  models: ArenaModel[];
  report: ModelReport;
  /** Auto mode: the id each group got, by group key, so a later build keeps it (see AutoGrouping.ids). */
  autoIds?: ReadonlyMap<string, string>;
}

export type Discoveries = ReadonlyMap<string, DiscoveryResult>;

/** Auto mode's grouping of names across backends (model-identity.ts). */
export interface AutoGrouping {
  groupByName: boolean;
  aliases: Readonly<Record<string, string>>;
  /**
   * Ids groups got before. A group's id is its alias target when one of its names has an alias,
   * else the id it had before, else its first deployment's name (GPU first): a backend that is
   * down at one discovery does not rename the model (and split its ratings) at the next.
   */
  ids?: ReadonlyMap<string, string>;
}

const EXACT_NAMES: AutoGrouping = { groupByName: false, aliases: {} };

export function buildCatalog(
  backends: BackendConfig[],
  configured: ModelConfig[],
  discovered: Discoveries,
  refreshedAt: Date | null,
  grouping: AutoGrouping = EXACT_NAMES,
): Catalog {
  const auto = configured.length > 0 ? undefined : autoModels(backends, discovered, grouping);
  const statuses = auto?.resolved ?? configuredModels(backends, configured, discovered);
  return {
    ...(auto ? { autoIds: auto.ids } : {}),
    models: statuses.filter((s) => s.arena).map((s) => s.arena as ArenaModel),
    report: {
      mode: configured.length > 0 ? 'configured' : 'auto',
      refreshedAt: refreshedAt?.toISOString() ?? null,
      models: statuses.map((s) => s.status),
      backends: backends.map((b) => backendStatus(b, discovered.get(b.id))),
    },
  };
}

interface Resolved {
  status: ModelStatus;
  arena?: ArenaModel;
}

interface ResolvedDeployment {
  status: DeploymentStatus;
  available?: ArenaDeployment;
}

function configuredModels(backends: BackendConfig[], configured: ModelConfig[], discovered: Discoveries): Resolved[] {
  const byId = new Map(backends.map((b) => [b.id, b]));
  return configured.map((model) => {
    const resolved = model.deployments.map((d) => resolveDeployment(d, byId.get(d.backend), discovered.get(d.backend)));
    return assemble(model.id, model.label ?? model.id, resolved, model.leakWords);
  });
}

function resolveDeployment(
  wanted: DeploymentConfig,
  backend: BackendConfig | undefined,
  result: DiscoveryResult | undefined,
): ResolvedDeployment {
  const missing = (reason: string): ResolvedDeployment => ({
    status: { deployment: `${wanted.backend}/${wanted.model}`, backend: wanted.backend, model: wanted.model, status: 'missing', reason },
  });
  if (!backend) return missing(`backend "${wanted.backend}" is not declared`);
  if (!result) return missing(`backend "${backend.id}" has not been checked yet`);
  if (!result.ok) return missing(`backend "${backend.id}" unreachable: ${result.error}`);
  const found = result.models.find((m) => sameModel(m.name, wanted.model));
  if (!found) return missing(`backend "${backend.id}" does not serve "${wanted.model}" (${servedList(result.models)})`);
  return available(backend, found, wanted.sizeMb);
}

function available(backend: BackendConfig, found: DiscoveredModel, configuredSizeMb?: number): ResolvedDeployment {
  const key = `${backend.id}/${found.name}`;
  return {
    status: { deployment: key, backend: backend.id, model: found.name, status: 'available' },
    available: {
      key,
      backendId: backend.id,
      model: found.name,
      gpu: backend.gpu,
      capabilities: found.capabilities,
      contextLength: found.contextLength,
      sizeMb: configuredSizeMb ?? found.sizeMb,
    },
  };
}

function assemble(id: string, label: string, resolved: ResolvedDeployment[], leakWords?: string[]): Resolved {
  const deployments = resolved.flatMap((r) => (r.available ? [r.available] : []));
  const capabilities = [...new Set(deployments.flatMap((d) => d.capabilities))];
  const contexts = deployments.flatMap((d) => (d.contextLength ? [d.contextLength] : []));
  const contextLength = contexts.length > 0 ? Math.min(...contexts) : undefined;
  const status: ModelStatus = {
    id,
    label,
    status: deployments.length > 0 ? 'available' : 'missing',
    deployments: resolved.map((r) => r.status),
    capabilities,
    contextLength,
  };
  if (deployments.length === 0) status.reason = resolved.map((r) => r.status.reason).join('; ');
  const arena = deployments.length > 0 ? { id, label, deployments, capabilities, contextLength, leakWords } : undefined;
  return { status, arena };
}

/**
 * Auto mode: every chat model found becomes an arena model. Names of one group (the same name,
 * or the same normalised name when `groupByName`) on different backends are one model, GPU
 * first; its id is the name of its first deployment. A backend contributes at most one
 * deployment to a group: a second name on it with the same key is a model of its own.
 */
function autoModels(backends: BackendConfig[], discovered: Discoveries, grouping: AutoGrouping): { resolved: Resolved[]; ids: Map<string, string> } {
  const groups: Array<{ key: string; id: string; backends: Set<string>; resolved: ResolvedDeployment[] }> = [];
  const keyOf = (name: string) => (grouping.groupByName ? groupKeyFor(name, grouping.aliases) : withTag(name));
  for (const backend of gpuFirst(backends)) {
    const result = discovered.get(backend.id);
    if (!result?.ok) continue;
    for (const model of result.models.filter(isChatModel)) {
      const key = keyOf(model.name);
      let group = groups.find((g) => g.key === key && !g.backends.has(backend.id));
      if (!group) {
        // Only a key's first group keeps its id; a second copy on the same backend is named by itself.
        const first = !groups.some((g) => g.key === key);
        groups.push((group = { key, id: (first && grouping.ids?.get(key)) || model.name, backends: new Set(), resolved: [] }));
        const alias = grouping.groupByName && first ? grouping.aliases[model.name] : undefined;
        if (alias) group.id = alias;
      } else if (grouping.groupByName && grouping.aliases[model.name]) {
        group.id = grouping.aliases[model.name]!;
      }
      group.backends.add(backend.id);
      group.resolved.push(available(backend, model));
    }
  }
  const ids = new Map<string, string>(grouping.ids);
  for (const g of groups) if (groups.find((o) => o.key === g.key) === g) ids.set(g.key, g.id);
  return { resolved: groups.map((g) => assemble(g.id, g.id, g.resolved)), ids };
}

function gpuFirst(backends: BackendConfig[]): BackendConfig[] {
  return [...backends.filter((b) => b.gpu), ...backends.filter((b) => !b.gpu)];
}

function isChatModel(model: DiscoveredModel): boolean {
  return !model.capabilities.includes('embedding') || model.capabilities.includes('completion');
}

/** Ollama treats `name` and `name:latest` as the same model. */
function sameModel(served: string, wanted: string): boolean {
  return withTag(served) === withTag(wanted);
}

function withTag(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

const LISTED = 10;

function servedList(models: DiscoveredModel[]): string {
  if (models.length === 0) return 'it serves no models';
  const names = models.slice(0, LISTED).map((m) => m.name);
  const more = models.length > LISTED ? `, and ${models.length - LISTED} more` : '';
  return `it serves: ${names.join(', ')}${more}`;
}

function backendStatus(backend: BackendConfig, result: DiscoveryResult | undefined): BackendStatus {
  const base = { id: backend.id, kind: backend.kind, url: displayUrl(backend.url), gpu: backend.gpu, demo: backend.demo };
  if (!result) return { ...base, ok: false, error: 'not checked yet', models: [] };
  if (!result.ok) return { ...base, ok: false, error: result.error, models: [] };
  return { ...base, ok: true, models: result.models.map((m) => m.name) };
}
