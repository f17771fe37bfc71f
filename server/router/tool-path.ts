import type { Logger } from 'pino';
import type { ArenaInfo, RouteMode } from '../../src/lib/shared/protocol.js';
import type { BackendConfig, Config } from '../config/schema.js';
import type { ModelRegistry } from '../models/registry.js';
import { probeBackend } from '../models/probe.js';
import { backendApiKey, createProvider } from '../providers/index.js';
import type { ChatMessage, Provider } from '../providers/types.js';
import { BUILTIN_TOOLS, loadToolModules, runToolConversation, ToolRegistry, type ToolConversationResult, type ToolLoopEvent } from '../tools/index.js';
import { createRouter } from './router.js';
import type { RouteDecision } from './types.js';

/** What the arena needs to send a prompt down the tools path. */
export interface ToolPath {
  status(): ArenaInfo['tools'];
  decide(prompt: string, mode: RouteMode): Promise<RouteDecision & { prompt: string }>;
  /** Why the tool-calling model cannot answer right now (its server does not answer), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Runs the tool loop on the current tool-calling model; `model` says which one answered. */
  run(messages: ChatMessage[], signal: AbortSignal, onEvent: (e: ToolLoopEvent) => void): Promise<ToolConversationResult & { model: string }>;
}

const OPENAI: BackendConfig = { id: 'openai', kind: 'openai', url: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', gpu: false, demo: false };

interface Target {
  provider: Provider;
  model: string;
  label: string;
  backend: BackendConfig;
}

/** A reachability answer is reused this long (a burst of tools prompts costs one probe); a failure for longer. */
const REACHABLE_TTL_MS = 2_000;
const UNREACHABLE_TTL_MS = 5_000;
const PROBE_TIMEOUT_MS = 1_500;
/** Errors that say the server is not there, as opposed to a bad answer from a server that is. */
const UNREACHABLE = new Set(['connection_refused', 'connect_timeout', 'connection_reset']);
const DOWN_NOTICE = 'The tool-calling model is not answering right now, so two models answer instead.';

/**
 * The tool-calling model is chosen per request: a configured backend, else OpenAI when its key
 * is set, else the first available tool-capable arena model (capability from discovery).
 */
export async function createToolPath(opts: { config: Config; registry: ModelRegistry; logger: Logger; env?: NodeJS.ProcessEnv }): Promise<ToolPath> {
  const { config, registry } = opts;
  const env = opts.env ?? process.env;
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  const providers = new Map<string, Provider>();
  const providerFor = (backend: BackendConfig) => {
    let provider = providers.get(backend.id);
    if (!provider) providers.set(backend.id, (provider = createProvider(backend, { timeouts: config.timeouts, env })));
    return provider;
  };
  const tools = new ToolRegistry([...BUILTIN_TOOLS, ...(await loadToolModules(config.tools.modules))]);
  const llm = config.router.llm;
  const router = createRouter({
    classifier: config.router.classifier,
    ...(llm ? { llm: { provider: providerFor(backends.get(llm.backend)!), model: llm.model, timeoutMs: llm.timeoutMs } } : {}),
  });

  const target = (): Target | { reason: string } => {
    const configured = config.tools.backend ? backends.get(config.tools.backend) : undefined;
    if (configured) return { provider: providerFor(configured), model: config.tools.model, label: `${configured.id}/${config.tools.model}`, backend: configured };
    if (env.OPENAI_API_KEY) return { provider: providerFor(OPENAI), model: config.tools.model, label: `openai/${config.tools.model}`, backend: OPENAI };
    for (const model of registry.toolCapableModels()) {
      const deployment = model.deployments.find((d) => d.capabilities.includes('tools')) ?? model.deployments[0];
      const backend = deployment && backends.get(deployment.backendId);
      if (backend) return { provider: providerFor(backend), model: deployment.model, label: model.label, backend };
    }
    return { reason: 'No OpenAI key (OPENAI_API_KEY) and no tool-capable model: questions that need tools go to the arena.' };
  };

  // Per backend: when it was last checked and whether it answered.
  const reachability = new Map<string, { at: number; down?: string }>();
  const markDown = (backendId: string, why: string) => reachability.set(backendId, { at: Date.now(), down: why });
  const unavailable = async (): Promise<string | undefined> => {
    const t = target();
    if ('reason' in t) return t.reason;
    const known = reachability.get(t.backend.id);
    if (known && Date.now() - known.at < (known.down ? UNREACHABLE_TTL_MS : REACHABLE_TTL_MS)) return known.down && DOWN_NOTICE;
    const probe = await probeBackend(t.backend, { timeoutMs: PROBE_TIMEOUT_MS, apiKey: backendApiKey(t.backend, env) });
    if (probe.ok) reachability.set(t.backend.id, { at: Date.now() });
    else {
      markDown(t.backend.id, probe.error.message);
      opts.logger.warn({ backend: t.backend.id, err: probe.error.message }, 'tools backend not answering: tools prompts go to the arena');
    }
    return probe.ok ? undefined : DOWN_NOTICE;
  };

  opts.logger.info({ tools: tools.names() }, 'tools path ready');
  return {
    status() {
      const t = target();
      return 'reason' in t ? { enabled: false, reason: t.reason } : { enabled: true, model: t.label };
    },
    decide: (prompt, mode) => router.decide(prompt, mode),
    unavailable,
    async run(messages, signal, onEvent) {
      const t = target();
      if ('reason' in t) throw new Error(t.reason);
      const result = await runToolConversation({
        provider: t.provider,
        model: t.model,
        messages,
        registry: tools,
        maxRounds: config.tools.maxRounds,
        signal,
        onEvent,
      });
      if (result.error && UNREACHABLE.has(result.error.code)) markDown(t.backend.id, result.error.message);
      return { ...result, model: t.label };
    },
  };
}
