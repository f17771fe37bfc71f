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
  return {
    load: (backend, model) =>
      backend.kind === 'vllm' ? post(backend, '/wake_up') : post(backend, '/api/chat', { model, messages: [], stream: false }),
    unload: (backend, model) =>
      backend.kind === 'vllm' ? post(backend, '/sleep?level=1') : post(backend, '/api/chat', { model, messages: [], stream: false, keep_alive: 0 }),
  };
}

const fetchOnce = retryingStaleSockets(fetch);
