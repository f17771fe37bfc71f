/**
 * Backend health as it crosses the wire: the admin snapshot (`GET /api/admin/status`) and the
 * public view (`status:subscribe`, `GET /api/status`). The server computes both
 * (server/models/status.ts, server/models/public-status.ts); the status page renders them.
 */

export const BACKEND_KINDS = ['ollama', 'vllm', 'openai'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export type DeploymentState = 'healthy' | 'degraded' | 'down' | 'sleeping' | 'loading';

/** Where a deployment's weights are, as the swap manager sees it. */
export type Residency = 'loaded' | 'not-loaded' | 'sleeping' | 'loading' | 'unloading' | 'unknown';

/** One model Ollama's /api/ps lists. */
export interface LoadedModel {
  model: string;
  sizeMb: number;
}

export interface LoadedUnit {
  key: string;
  /** What the unit holds: one Ollama model, or every model of a vLLM engine. */
  models: string[];
  sizeMb: number;
  /** The backend serving it (a GPU can be shared by several). */
  backend?: string;
  /** Live usage: admin view only. */
  inFlight?: number;
  ratePerMinute?: number;
  score?: number;
}

export interface MemoryUse {
  /** The GPU these figures are for: a `gpus[]` id, or the backend's own id for a backend with `vramMb`. */
  gpu?: string;
  budgetMb: number;
  usedMb: number;
  /** Loaded models Arena did not ask for (another client of the same Ollama). */
  otherMb: number;
  units: LoadedUnit[];
}

// ---------------------------------------------------------------- admin snapshot

export interface DeploymentSnapshot {
  key: string;
  model: string;
  /** The arena models it serves. */
  serves: string[];
  state: DeploymentState;
  reason?: string;
  lastError?: string;
  residency?: Residency;
  /** vLLM: requests waiting. Live traffic counters: admin view only (see publicStatus). */
  queueDepth?: number;
  inFlight?: number;
  ratePerMinute?: number;
}

export interface BackendSnapshot {
  id: string;
  kind: BackendKind;
  url: string;
  gpu: boolean;
  /** The built-in simulator's demo backend. */
  demo: boolean;
  /** null until the first probe. */
  reachable: boolean | null;
  checkedAt: string | null;
  latencyMs: number | null;
  lastError?: string;
  lastErrorAt?: string;
  /** While tripped: good probes so far towards taking traffic again. */
  recovery?: { good: number; needed: number };
  sleeping?: boolean;
  /** Ollama: what its /api/ps lists. */
  loaded?: LoadedModel[];
  /** GPU backends with a budget. */
  memory?: MemoryUse;
  deployments: DeploymentSnapshot[];
}

export interface ModelSnapshot {
  id: string;
  label: string;
  available: boolean;
  /** Deployments a request would try now, in order. */
  route: string[];
}

export interface StatusSnapshot {
  generatedAt: string;
  backends: BackendSnapshot[];
  models: ModelSnapshot[];
}

// ---------------------------------------------------------------- public view

/** What anyone may see: backend health only (server/models/public-status.ts says why). */
export interface PublicBackendStatus extends Pick<BackendSnapshot, 'id' | 'kind' | 'url' | 'gpu' | 'demo' | 'reachable' | 'recovery'> {
  /** The backend's own breaker is open (probes or refused connections): no traffic goes there. */
  down: boolean;
  /** The last failed probe's message (credentials removed). */
  lastError?: string;
}

export interface PublicModelStatus {
  id: string;
  label: string;
  /** False only when every deployment of the model is down. */
  available: boolean;
}

export interface PublicStatus {
  generatedAt: string;
  backends: PublicBackendStatus[];
  models: PublicModelStatus[];
}
