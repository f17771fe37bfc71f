import type { Logger } from 'pino';
import type { ArenaInfo, RouteMode } from '../../src/lib/shared/protocol.js';
import type { BackendConfig, Config } from '../config/schema.js';
import type { ModelRegistry } from '../models/registry.js';
import { createProvider } from '../providers/index.js';
import type { ChatMessage, Provider } from '../providers/types.js';
import { BUILTIN_TOOLS, loadToolModules, runToolConversation, ToolRegistry, type ToolConversationResult, type ToolLoopEvent } from '../tools/index.js';
import { createRouter } from './router.js';
import type { RouteDecision } from './types.js';

/** What the arena needs to send a prompt down the tools path. */
export interface ToolPath {
  status(): ArenaInfo['tools'];
  decide(prompt: string, mode: RouteMode): Promise<RouteDecision & { prompt: string }>;
  /** Runs the tool loop on the current tool-calling model; `model` says which one answered. */
  run(messages: ChatMessage[], signal: AbortSignal, onEvent: (e: ToolLoopEvent) => void): Promise<ToolConversationResult & { model: string }>;
}

const OPENAI: BackendConfig = { id: 'openai', kind: 'openai', url: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', gpu: false, demo: false };

interface Target {
  provider: Provider;
  model: string;
  label: string;
}

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
    if (configured) return { provider: providerFor(configured), model: config.tools.model, label: `${configured.id}/${config.tools.model}` };
    if (env.OPENAI_API_KEY) return { provider: providerFor(OPENAI), model: config.tools.model, label: `openai/${config.tools.model}` };
    for (const model of registry.toolCapableModels()) {
      const deployment = model.deployments.find((d) => d.capabilities.includes('tools')) ?? model.deployments[0];
      const backend = deployment && backends.get(deployment.backendId);
      if (backend) return { provider: providerFor(backend), model: deployment.model, label: model.label };
    }
    return { reason: 'No OpenAI key (OPENAI_API_KEY) and no tool-capable model: questions that need tools go to the arena.' };
  };

  opts.logger.info({ tools: tools.names() }, 'tools path ready');
  return {
    status() {
      const t = target();
      return 'reason' in t ? { enabled: false, reason: t.reason } : { enabled: true, model: t.label };
    },
    decide: (prompt, mode) => router.decide(prompt, mode),
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
      return { ...result, model: t.label };
    },
  };
}
