import type { BackendConfig } from '../config/schema.js';
import { createOllamaProvider } from './ollama.js';
import { createOpenAIProvider } from './openai.js';
import type { Provider, StreamTimeouts } from './types.js';

export interface CreateProviderOptions {
  timeouts: StreamTimeouts;
  env?: NodeJS.ProcessEnv;
}

/** The provider for a configured backend: Ollama speaks its native API, the rest the OpenAI one. */
export function createProvider(backend: BackendConfig, opts: CreateProviderOptions): Provider {
  const apiKey = backendApiKey(backend, opts.env);
  if (backend.kind === 'ollama') return createOllamaProvider({ baseUrl: backend.url, apiKey, timeouts: opts.timeouts });
  return createOpenAIProvider({ baseUrl: backend.url, apiKey, timeouts: opts.timeouts, kind: backend.kind });
}

/** The key lives in the environment variable the config names, never in the config itself. */
export function backendApiKey(backend: BackendConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return backend.apiKeyEnv ? env[backend.apiKeyEnv] || undefined : undefined;
}
