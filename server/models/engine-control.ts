import type { BackendConfig } from '../config/schema.js';
import { classifyFailure, httpError } from '../providers/classify.js';
import { ProviderError } from '../providers/errors.js';
import { retryingStaleSockets } from '../providers/stale-socket.js';
import { endpointUrl } from '../providers/urls.js';

/**
 * Puts models into memory and takes them out. Ollama: a chat with no messages preloads,
 * `keep_alive: 0` unloads (the `/v1` layer ignores keep_alive, so this goes through `/api/chat`).
 * vLLM: `POST /wake_up`, and `POST /sleep?level=1`, which moves the weights to CPU RAM so waking
 * costs a fraction of a cold start.
 */

export interface EngineControl {
  load(backend: BackendConfig, model: string): Promise<void>;
  unload(backend: BackendConfig, model: string): Promise<void>;
  /**
   * What the backend itself reports: Ollama lists the model in `/api/ps` (loaded, loading, or
   * held back from an unload by running requests); a vLLM engine is not asleep (`/is_sleeping`).
   */
  inMemory(backend: BackendConfig, model: string): Promise<boolean>;
}

export function createEngineControl(opts: { timeoutMs: number; apiKey: (backend: BackendConfig) => string | undefined }): EngineControl {
  const post = async (backend: BackendConfig, path: string, body?: unknown) => {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const apiKey = opts.apiKey(backend);
    try {
      const res = await fetchOnce(endpointUrl(backend.url, path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey && { authorization: `Bearer ${apiKey}` }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      if (!res.ok) throw await httpError(res, `${backend.id} ${path}`);
      await res.body?.cancel();
    } catch (err) {
      if (signal.aborted) throw new ProviderError('connect_timeout', `${backend.id} ${path}: no answer within ${opts.timeoutMs} ms`);
      throw classifyFailure(err, `${backend.id} ${path}`);
    }
  };
  const get = async (backend: BackendConfig, path: string): Promise<unknown> => {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const apiKey = opts.apiKey(backend);
    try {
      const res = await fetchOnce(endpointUrl(backend.url, path), { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal });
      if (!res.ok) throw await httpError(res, `${backend.id} ${path}`);
      return await res.json();
    } catch (err) {
      if (signal.aborted) throw new ProviderError('connect_timeout', `${backend.id} ${path}: no answer within ${opts.timeoutMs} ms`);
      throw classifyFailure(err, `${backend.id} ${path}`);
    }
  };
  return {
    async inMemory(backend, model) {
      if (backend.kind === 'vllm') return (await get(backend, '/is_sleeping') as { is_sleeping?: unknown }).is_sleeping !== true;
      const ps = (await get(backend, '/api/ps')) as { models?: Array<{ name: string }> };
      return (ps.models ?? []).some((m) => sameModel(m.name, model));
    },
    load: (backend, model) =>
      backend.kind === 'vllm' ? post(backend, '/wake_up') : post(backend, '/api/chat', { model, messages: [], stream: false }),
    unload: (backend, model) =>
      backend.kind === 'vllm' ? post(backend, '/sleep?level=1') : post(backend, '/api/chat', { model, messages: [], stream: false, keep_alive: 0 }),
  };
}

const fetchOnce = retryingStaleSockets(fetch);

/** Ollama treats `name` and `name:latest` as the same model. */
function sameModel(a: string, b: string): boolean {
  const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`);
  return tagged(a) === tagged(b);
}
