import type { BackendConfig } from '../config/schema.js';
import { errorBodyMessage, failureDetail } from '../providers/classify.js';
import { retryingStaleSockets } from '../providers/stale-socket.js';
import { endpointUrl, openAIBaseUrl } from '../providers/urls.js';

/**
 * Asks one backend which models it serves. Ollama: `/api/tags`, then `/api/show` per model for
 * capabilities and context length. vLLM / OpenAI: `/v1/models`. Never throws: a backend that
 * cannot answer comes back as `{ ok: false, error }` with a message a person can act on.
 */

export interface DiscoveredModel {
  name: string;
  contextLength?: number;
  /** completion / tools / thinking / vision / embedding */
  capabilities: string[];
  sizeMb?: number;
  ownedBy?: string;
}

export type DiscoveryResult = { ok: true; models: DiscoveredModel[] } | { ok: false; error: string };

export interface DiscoverOptions {
  timeoutMs: number;
  apiKey?: string;
  fetch?: typeof fetch;
}

export async function discoverBackend(backend: BackendConfig, opts: DiscoverOptions): Promise<DiscoveryResult> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const client: JsonClient = { fetch: retryingStaleSockets(opts.fetch ?? fetch), signal, apiKey: opts.apiKey };
  try {
    const models = backend.kind === 'ollama' ? await discoverOllama(backend.url, client) : await discoverOpenAI(backend, client);
    return { ok: true, models };
  } catch (err) {
    return { ok: false, error: signal.aborted ? `no answer within ${opts.timeoutMs} ms` : failureDetail(err) };
  }
}

interface JsonClient {
  fetch: typeof fetch;
  signal: AbortSignal;
  apiKey?: string;
}

async function requestJson(client: JsonClient, url: string, body?: unknown): Promise<unknown> {
  const res = await client.fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(client.apiKey && { authorization: `Bearer ${client.apiKey}` }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: client.signal,
  });
  const text = await res.text();
  const path = new URL(url).pathname;
  if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}: ${errorBodyMessage(text)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path} answered something that is not JSON`);
  }
}

// ── Ollama ────────────────────────────────────────────────────────────────────────────────

interface OllamaTags {
  models?: Array<{ name: string; size?: number }>;
}

interface OllamaShow {
  capabilities?: string[];
  model_info?: Record<string, unknown>;
}

async function discoverOllama(baseUrl: string, client: JsonClient): Promise<DiscoveredModel[]> {
  const tags = (await requestJson(client, endpointUrl(baseUrl, '/api/tags'))) as OllamaTags;
  const models = await Promise.all(
    (tags.models ?? []).map(async (tag) => {
      // One model's /api/show failing must not hide the others; it falls back to plain completion.
      const show = (await requestJson(client, endpointUrl(baseUrl, '/api/show'), { model: tag.name }).catch(() => undefined)) as
        | OllamaShow
        | undefined;
      return {
        name: tag.name,
        capabilities: show?.capabilities?.length ? show.capabilities : ['completion'],
        contextLength: contextLengthOf(show?.model_info),
        sizeMb: tag.size ? Math.round(tag.size / 2 ** 20) : undefined,
      };
    }),
  );
  if (client.signal.aborted) throw client.signal.reason;
  return models;
}

/** model_info holds it under the architecture's name: `llama.context_length`, `qwen3.context_length`, … */
function contextLengthOf(info: Record<string, unknown> | undefined): number | undefined {
  const entry = Object.entries(info ?? {}).find(([key, value]) => key.endsWith('.context_length') && typeof value === 'number');
  return entry?.[1] as number | undefined;
}

// ── vLLM and OpenAI ───────────────────────────────────────────────────────────────────────

interface ModelList {
  data?: Array<{ id: string; owned_by?: string; max_model_len?: number }>;
}

/** OpenAI lists every product it sells; only chat models can duel. */
const OPENAI_NOT_CHAT = /embedding|tts|whisper|dall-e|moderation|transcribe|realtime|image|davinci|babbage/i;
const OPENAI_CHAT = /^(gpt-|o\d|chatgpt-)/i;

async function discoverOpenAI(backend: BackendConfig, client: JsonClient): Promise<DiscoveredModel[]> {
  const list = (await requestJson(client, `${openAIBaseUrl(backend.url)}/models`)) as ModelList;
  const entries = list.data ?? [];
  if (backend.kind === 'openai') {
    return entries
      .filter((m) => !OPENAI_NOT_CHAT.test(m.id))
      .map((m) => ({ name: m.id, ownedBy: m.owned_by, capabilities: OPENAI_CHAT.test(m.id) ? ['completion', 'tools'] : ['completion'] }));
  }
  // vLLM does not say whether tool calling is enabled (a server flag), so only completion is certain.
  return entries.map((m) => ({
    name: m.id,
    ownedBy: m.owned_by,
    contextLength: m.max_model_len,
    capabilities: /embed/i.test(m.id) ? ['embedding'] : ['completion'],
  }));
}
