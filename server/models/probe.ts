import type { BackendConfig } from '../config/schema.js';
import { classifyFailure, httpError } from '../providers/classify.js';
import { ProviderError } from '../providers/errors.js';
import { retryingStaleSockets } from '../providers/stale-socket.js';
import { endpointUrl, openAIBaseUrl } from '../providers/urls.js';
import type { LoadedModel } from '../../src/lib/shared/status.js';

/**
 * One health probe of one backend, by kind. vLLM: `/health`, plus `/is_sleeping` (sleep mode) and
 * the `vllm:num_requests_waiting` gauge of `/metrics`; Ollama: `/`, plus `/api/ps` (what is
 * loaded, and its memory); OpenAI: `/v1/models`. Only the liveness endpoint decides `ok`; the
 * extras are facts for the swap manager and may be missing. Never throws.
 */

export interface ProbeFacts {
  /** vLLM with sleep mode: whether the engine sleeps; undefined without sleep mode. */
  sleeping?: boolean;
  /** Ollama: the models in memory. */
  loaded?: LoadedModel[];
  /** vLLM: requests waiting, by model name. */
  waiting?: Record<string, number>;
}

export type ProbeResult = { ok: true; latencyMs: number; facts: ProbeFacts } | { ok: false; latencyMs: number; error: ProviderError };

export interface ProbeOptions {
  timeoutMs: number;
  apiKey?: string;
}

const fetchOnce = retryingStaleSockets(fetch);
const MB = 2 ** 20;

export async function probeBackend(backend: BackendConfig, opts: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const get = (path: string) => request(backend, path, opts.apiKey, signal);
  try {
    const facts = await probeByKind(backend, get);
    return { ok: true, latencyMs: performance.now() - started, facts };
  } catch (err) {
    const error = signal.aborted
      ? new ProviderError('connect_timeout', `${backend.id}: no answer within ${opts.timeoutMs} ms`)
      : classifyFailure(err, backend.id);
    return { ok: false, latencyMs: performance.now() - started, error };
  }
}

type Get = (path: string) => Promise<Response>;

async function probeByKind(backend: BackendConfig, get: Get): Promise<ProbeFacts> {
  if (backend.kind === 'ollama') {
    await expectOk(get('/'), backend.id);
    return { loaded: await optional(get('/api/ps'), ollamaLoaded) };
  }
  if (backend.kind === 'openai') {
    await expectOk(get(`${openAIBaseUrl(backend.url)}/models`), backend.id);
    return {};
  }
  await expectOk(get('/health'), backend.id);
  const [sleeping, waiting] = await Promise.all([optional(get('/is_sleeping'), isSleeping), optional(get('/metrics'), requestsWaiting)]);
  return { sleeping, waiting };
}

function request(backend: BackendConfig, path: string, apiKey: string | undefined, signal: AbortSignal): Promise<Response> {
  const url = path.startsWith('http') ? path : endpointUrl(backend.url, path);
  return fetchOnce(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal });
}

async function expectOk(pending: Promise<Response>, label: string): Promise<void> {
  const res = await pending;
  if (!res.ok) throw await httpError(res, label);
  await res.body?.cancel();
}

/** An extra endpoint: its answer when it gives one, undefined when it is missing or says nothing useful. */
async function optional<T>(pending: Promise<Response>, read: (res: Response) => Promise<T | undefined>): Promise<T | undefined> {
  const res = await pending;
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  return read(res).catch(() => undefined);
}

async function ollamaLoaded(res: Response): Promise<LoadedModel[]> {
  const body = (await res.json()) as { models?: Array<{ name: string; size?: number; size_vram?: number }> };
  return (body.models ?? []).map((m) => ({ model: m.name, sizeMb: Math.round((m.size_vram ?? m.size ?? 0) / MB) }));
}

async function isSleeping(res: Response): Promise<boolean | undefined> {
  const body = (await res.json()) as { is_sleeping?: unknown };
  return typeof body.is_sleeping === 'boolean' ? body.is_sleeping : undefined;
}

const WAITING = /^vllm:num_requests_waiting(?:\{([^}]*)\})?\s+(\S+)/gm;

/** Prometheus text: `vllm:num_requests_waiting{model_name="m"} 3.0`, one line per model. */
async function requestsWaiting(res: Response): Promise<Record<string, number>> {
  return parseRequestsWaiting(await res.text());
}

export function parseRequestsWaiting(text: string): Record<string, number> {
  const waiting: Record<string, number> = {};
  for (const [, labels = '', value] of text.matchAll(WAITING)) {
    const model = /model_name="([^"]*)"/.exec(labels)?.[1] ?? '';
    waiting[model] = (waiting[model] ?? 0) + Number(value);
  }
  return waiting;
}
