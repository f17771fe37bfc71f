import { z } from 'zod';

/**
 * The one declarative config (llama-swap style): backends, the logical arena models they serve,
 * and the knobs of every subsystem. Loaded from arena.config.yaml (or ARENA_CONFIG) plus env
 * overrides, validated here once at start-up.
 */

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const ms = z.number().int().positive();

export const BackendSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _ only'),
  kind: z.enum(['ollama', 'vllm', 'openai']),
  url,
  /** Name of the environment variable holding the API key; the key itself never sits in config. */
  apiKeyEnv: z.string().optional(),
  gpu: z.boolean().default(false),
  /** GPU memory budget in MiB, for the swap manager. */
  vramMb: z.number().int().positive().optional(),
  /** Marks the built-in simulator's demo backends so the UI and logs can say "demo". */
  demo: z.boolean().default(false),
});

export const DeploymentSchema = z.object({
  backend: z.string(),
  /** The name the backend knows the model by. */
  model: z.string(),
  /** Expected VRAM in MiB when the backend cannot report it. */
  sizeMb: z.number().int().positive().optional(),
});

export const ModelSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._:-]*$/i, 'letters, digits, . : - and _ only'),
  label: z.string().optional(),
  /** In preference order: the first healthy one serves (GPU first, CPU fallback). */
  deployments: z.array(DeploymentSchema).min(1),
  /** Words that, appearing in this model's answer, reveal its identity (case-insensitive). */
  leakWords: z.array(z.string().min(2)).optional(),
});

export const TimeoutsSchema = z.object({
  connectMs: ms.default(5_000),
  firstTokenMs: ms.default(60_000),
  idleMs: ms.default(30_000),
});

export const ConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(3000),
    host: z.string().default('0.0.0.0'),
    /** Embedded store location (SQLite file lives here). */
    dataDir: z.string().default('./data'),
    /** When set: Redis store, Redis Socket.IO adapter, shared state across instances. */
    redisUrl: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
    /** Namespace of every Redis key and channel, so several arenas can share one Redis. */
    redisPrefix: z.string().regex(/^[A-Za-z0-9:_-]*$/).default('arena:'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Allowed browser origins for Socket.IO; empty = same host as the request. */
    allowedOrigins: z.array(z.string()).default([]),
    /**
     * Where models come from when no backend is declared: `auto` uses an Ollama at ollamaUrl when
     * one answers, else the built-in simulator's demo set; `on` always uses the demo set.
     */
    demo: z.enum(['auto', 'on', 'off']).default('auto'),
    ollamaUrl: url.default('http://127.0.0.1:11434'),
    backends: z.array(BackendSchema).default([]),
    /** Logical arena models. Empty = auto mode: every discovered chat model is an arena model. */
    models: z.array(ModelSchema).default([]),
    discovery: z
      .object({ intervalMs: ms.default(30_000), timeoutMs: ms.default(3_000) })
      .prefault({}),
    timeouts: TimeoutsSchema.prefault({}),
    /** Backend probes and per-deployment circuit breakers (docs/operations.md). */
    health: z
      .object({
        intervalMs: ms.default(5_000),
        timeoutMs: ms.default(2_000),
        /** Consecutive good probes before a tripped deployment takes traffic again (hysteresis). */
        closeAfter: z.number().int().positive().default(3),
        /** Consecutive soft failures (timeouts, 5xx, resets) that trip it; refused and 503 trip at once. */
        openAfter: z.number().int().positive().default(3),
        /** vLLM requests waiting above this make a deployment degraded: tried after healthy ones. */
        degradedQueueDepth: z.number().int().nonnegative().default(8),
      })
      .prefault({}),
    arena: z
      .object({
        systemPrompt: z.string().default(''),
        maxPromptChars: z.number().int().positive().default(8_000),
        maxTurns: z.number().int().positive().default(8),
        maxTokens: z.number().int().positive().default(1_024),
        /** How the next pair is chosen: `uncertainty` needs the fewest votes for tight intervals. */
        pairing: z.enum(['uncertainty', 'undersampled', 'uniform']).default('uncertainty'),
        /** Shown to each visitor before their first prompt, since prompts are stored and exportable; '' = off. */
        dataNotice: z
          .string()
          .max(2_000)
          .default('Prompts and answers are stored and may be published to rank and improve models. Do not enter personal or confidential information.'),
      })
      .prefault({}),
    /** The tools path: questions that need computation, dates or conversions. */
    tools: z
      .object({
        /** Backend for the tool-calling model; default: OpenAI when OPENAI_API_KEY is set, else the first tool-capable arena model. */
        backend: z.string().optional(),
        model: z.string().default('gpt-4o'),
        maxRounds: z.number().int().min(1).max(10).default(4),
        /** Extra tool modules (paths); each default-exports a tool or an array of tools. */
        modules: z.array(z.string()).default([]),
      })
      .prefault({}),
    router: z
      .object({
        /** The built-in classifier layer (after the explicit choice and the rules). */
        classifier: z.boolean().default(true),
        /** Optional LLM layer: asks a configured backend, with a short timeout. */
        llm: z.object({ backend: z.string(), model: z.string(), timeoutMs: ms.default(1_500) }).optional(),
      })
      .prefault({}),
    /** Rate limits, shared by every instance through Redis when it is configured. */
    limits: z
      .object({
        battlesPerMinute: z.number().int().positive().default(20),
        promptsPerMinutePerIp: z.number().int().positive().default(120),
        votesPerMinute: z.number().int().positive().default(60),
        connectionsPerMinutePerIp: z.number().int().positive().default(120),
        eventsPerSecond: z.number().int().positive().default(40),
        /** Packets waiting for one client before it is dropped (it resumes from its last seq). */
        maxBufferedPackets: z.number().int().positive().default(2_000),
      })
      .prefault({}),
    /** Use X-Forwarded-For for client IPs (only behind a proxy you control). */
    trustProxy: z.boolean().default(false),
    /** Bearer token for /api/admin/*; unset = the admin API is off. Prefer env ARENA_ADMIN_TOKEN. */
    adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Who may download exports: everyone, or only with the admin token. */
    exportAccess: z.enum(['public', 'admin']).default('public'),
    shutdownGraceMs: ms.default(10_000),
  })
  .superRefine((cfg, ctx) => {
    const ids = new Set(cfg.backends.map((b) => b.id));
    cfg.backends.forEach((b, i) => {
      if (cfg.backends.findIndex((o) => o.id === b.id) !== i)
        ctx.addIssue({ code: 'custom', path: ['backends', i, 'id'], message: `duplicate backend id "${b.id}"` });
    });
    const checkBackend = (id: string | undefined, path: (string | number)[]) => {
      if (id !== undefined && !ids.has(id))
        ctx.addIssue({ code: 'custom', path, message: `unknown backend "${id}" (declared: ${[...ids].join(', ') || 'none'})` });
    };
    checkBackend(cfg.tools.backend, ['tools', 'backend']);
    checkBackend(cfg.router.llm?.backend, ['router', 'llm', 'backend']);
    cfg.models.forEach((m, i) => {
      m.deployments.forEach((d, j) => {
        if (!ids.has(d.backend))
          ctx.addIssue({
            code: 'custom',
            path: ['models', i, 'deployments', j, 'backend'],
            message: `unknown backend "${d.backend}" (declared: ${[...ids].join(', ') || 'none'})`,
          });
      });
    });
  });

export type Config = z.infer<typeof ConfigSchema>;
export type BackendConfig = z.infer<typeof BackendSchema>;
export type ModelConfig = z.infer<typeof ModelSchema>;
export type DeploymentConfig = z.infer<typeof DeploymentSchema>;
