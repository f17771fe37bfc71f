import { z } from 'zod';
import { BACKEND_KINDS } from '../../src/lib/shared/status.js';
import { DEFAULT_CLUSTER_BUCKETS } from '../infra/redis-layout.js';
import { bytesToMb, parseMemorySize } from './memory-size.js';

/**
 * The one declarative config (llama-swap style): backends, the logical arena models they serve,
 * and the knobs of every subsystem. Loaded from arena.config.yaml (or ARENA_CONFIG) plus env
 * overrides, validated here once at start-up.
 */

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const ms = z.number().int().positive();
const unitId = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _ only');

/**
 * A GPU whose memory several backends share (Ollama instances, vLLM engines): the swap manager
 * keeps what they hold together within `memory`. Give `memoryBytes` or `memory` ("10GB", "24GiB").
 */
export const GpuSchema = z
  .strictObject({
    id: unitId,
    memoryBytes: z.number().int().positive().optional(),
    memory: z.string().optional(),
  })
  .superRefine((gpu, ctx) => {
    if ((gpu.memoryBytes === undefined) === (gpu.memory === undefined))
      ctx.addIssue({ code: 'custom', path: ['memory'], message: 'give exactly one of memory ("10GB") or memoryBytes' });
    else if (gpu.memory !== undefined && parseMemorySize(gpu.memory) === undefined)
      ctx.addIssue({ code: 'custom', path: ['memory'], message: `not a memory size: "${gpu.memory}" (e.g. "10GB", "24GiB")` });
  })
  .transform((gpu) => ({ id: gpu.id, budgetMb: bytesToMb(gpu.memoryBytes ?? parseMemorySize(gpu.memory!)!) }));

export const BackendSchema = z.strictObject({
  id: unitId,
  kind: z.enum(BACKEND_KINDS),
  url,
  /** Name of the environment variable holding the API key; the key itself never sits in config. */
  apiKeyEnv: z.string().optional(),
  /** `true`: a GPU backend; a GPU id (`gpus[].id`): a GPU backend sharing that GPU's memory. */
  gpu: z.union([z.boolean(), unitId]).default(false),
  /** GPU memory budget in MiB of a backend that has its GPU to itself (no `gpus[]` entry). */
  vramMb: z.number().int().positive().optional(),
  /** Marks the built-in simulator's demo backends so the UI and logs can say "demo". */
  demo: z.boolean().default(false),
}).transform(({ gpu, ...backend }) => ({ ...backend, gpu: gpu !== false, ...(typeof gpu === 'string' && { gpuId: gpu }) }));

export const DeploymentSchema = z.strictObject({
  backend: z.string(),
  /** The name the backend knows the model by. */
  model: z.string(),
  /** Expected VRAM in MiB when the backend cannot report it. */
  sizeMb: z.number().int().positive().optional(),
});

export const ModelSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._:-]*$/i, 'letters, digits, . : - and _ only'),
  label: z.string().optional(),
  /** In preference order: the first healthy one serves (GPU first, CPU fallback). */
  deployments: z.array(DeploymentSchema).min(1),
  /** Words whose first-person claim in this model's answer reveals its identity (replace the defaults from its names). */
  leakWords: z.array(z.string().min(2)).optional(),
});

export const TimeoutsSchema = z.strictObject({
  connectMs: ms.default(5_000),
  firstTokenMs: ms.default(60_000),
  idleMs: ms.default(30_000),
});

export const ConfigSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65535).default(3000),
    host: z.string().default('0.0.0.0'),
    /** Embedded store location (SQLite file lives here). */
    dataDir: z.string().default('./data'),
    /** When set: Redis store, Redis Socket.IO adapter, shared state across instances. */
    redisUrl: z
      .string()
      .refine((v) => v.split(',').every((u) => /^rediss?:\/\/[^,\s]+$/.test(u.trim()) && URL.canParse(u.trim())), {
        error: 'must be a redis:// or rediss:// URL, or a comma-separated list of them (Redis Cluster seeds)',
      })
      .optional(),
    /**
     * Redis Cluster mode (ioredis Cluster client, keys hash-tagged per battle): `auto` = when
     * redisUrl lists more than one seed; `true` for a managed cluster's single configuration endpoint.
     */
    redisCluster: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** Cluster mode, managed TLS endpoints: connect to nodes by the names announced, without resolving them here. */
    redisClusterDnsPassthrough: z.boolean().default(false),
    /** Cluster mode: node addresses as announced → as reachable from here ("10.0.0.5:6379": "redis-a:6379"). */
    redisClusterNatMap: z.record(z.string(), z.string().regex(/^[^:\s]+(:\d+)?$/)).optional(),
    /** Cluster mode: buckets of the global structures (votes stream, streaming set). */
    redisClusterBuckets: z.number().int().min(1).max(1024).default(DEFAULT_CLUSTER_BUCKETS),
    /**
     * Namespace of every Redis key and channel, so several arenas can share one Redis. May hold a
     * hash tag (`{arena}:`): on a cluster that pins every key to one slot (works, never shards).
     */
    redisPrefix: z.string().regex(/^[A-Za-z0-9:_{}.-]*$/).default('arena:'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Allowed browser origins for Socket.IO; empty = same host as the request. */
    allowedOrigins: z.array(z.string()).default([]),
    /**
     * Where models come from when no backend is declared: `auto` uses an Ollama at ollamaUrl when
     * one answers, else the built-in simulator's demo set; `on` always uses the demo set.
     */
    demo: z.enum(['auto', 'on', 'off']).default('auto'),
    ollamaUrl: url.default('http://127.0.0.1:11434'),
    /** GPUs shared by several backends; each backend names its GPU in `gpu`. */
    gpus: z.array(GpuSchema).default([]),
    backends: z.array(BackendSchema).default([]),
    /** Logical arena models. Empty = auto mode: every discovered chat model is an arena model. */
    models: z.array(ModelSchema).default([]),
    discovery: z
      .strictObject({
        intervalMs: ms.default(30_000),
        timeoutMs: ms.default(3_000),
        /** Auto mode: one model served under different names on several backends is one arena model (docs/operations.md). */
        groupByName: z.boolean().default(true),
        /** Auto mode: served name → the name whose group it joins (e.g. `phi3:mini: microsoft/Phi-3-mini-4k-instruct`). */
        aliases: z.record(z.string().min(1), z.string().min(1)).default({}),
      })
      .prefault({}),
    timeouts: TimeoutsSchema.prefault({}),
    /** Backend probes and per-deployment circuit breakers (docs/operations.md). */
    health: z
      .strictObject({
        intervalMs: ms.default(5_000),
        timeoutMs: ms.default(2_000),
        /** Consecutive good probes before a tripped deployment takes traffic again (hysteresis). */
        closeAfter: z.number().int().positive().default(3),
        /** Consecutive soft failures (timeouts, 5xx, resets) that trip it; refused and 503 trip at once. */
        openAfter: z.number().int().positive().default(3),
        /** Least time a tripped breaker stays open after its last failure; default (closeAfter − 1) × intervalMs. Doubles each time it reopens on probation. */
        coolDownMs: ms.optional(),
        /** An answer of 16+ tokens generated slower than this counts as a failed request (0 = off). */
        minTokensPerSecond: z.number().nonnegative().default(1),
        /** vLLM requests waiting above this make a deployment degraded: tried after healthy ones. */
        degradedQueueDepth: z.number().int().nonnegative().default(8),
      })
      .prefault({}),
    arena: z
      .strictObject({
        systemPrompt: z.string().default(''),
        maxPromptChars: z.number().int().positive().default(8_000),
        maxTurns: z.number().int().positive().default(8),
        maxTokens: z.number().int().positive().default(1_024),
        /** `matched`: both sides' text is released at the slower side's pace, hiding speed (docs/security.md). */
        pacing: z.enum(['off', 'matched']).default('off'),
        /** How streamed deltas merge into frames (server/arena/event-log.ts, docs/benchmarks.md). */
        frames: z
          .strictObject({
            coalesce: z.enum(['turn', 'task', 'window', 'none']).default('turn'),
            /** `turn`: also flush once the oldest waiting delta has waited this long (0 = end of turn only). */
            maxWaitMs: z.number().nonnegative().default(0),
            /** `window`: how long a battle's deltas wait. */
            windowMs: z.number().positive().default(5),
          })
          .prefault({}),
        /** How the next pair is chosen: `uncertainty` needs the fewest votes for tight intervals. */
        pairing: z.enum(['uncertainty', 'undersampled', 'uniform']).default('uncertainty'),
        /** Vote hygiene: which votes the boards count (docs/ratings.md). */
        hygiene: z
          .object({
            pairCapPerDay: z.number().int().positive().default(10),
            duplicateWindowMs: ms.default(600_000),
            flagMinVotes: z.number().int().min(5).default(20),
            flagAlpha: z.number().positive().max(0.05).default(1e-4),
          })
          .prefault({}),
        /** Shown to each visitor before their first prompt, since prompts are stored and exportable; '' = off. */
        dataNotice: z
          .string()
          .max(2_000)
          .default('Prompts and answers are stored and may be published to rank and improve models. Do not enter personal or confidential information.'),
      })
      .prefault({}),
    /** The tools path: questions that need computation, dates or conversions. */
    tools: z
      .strictObject({
        /** Backend for the tool-calling model; default: OpenAI when OPENAI_API_KEY is set, else the first tool-capable arena model. */
        backend: z.string().optional(),
        model: z.string().default('gpt-4o'),
        maxRounds: z.number().int().min(1).max(10).default(4),
        /** Extra tool modules (paths); each default-exports a tool or an array of tools. */
        modules: z.array(z.string()).default([]),
      })
      .prefault({}),
    router: z
      .strictObject({
        /** The built-in classifier layer (after the explicit choice and the rules). */
        classifier: z.boolean().default(true),
        /** Optional LLM layer: asks a configured backend, with a short timeout. */
        llm: z.strictObject({ backend: z.string(), model: z.string(), timeoutMs: ms.default(1_500) }).optional(),
      })
      .prefault({}),
    /** Rate limits, shared by every instance through Redis when it is configured. */
    limits: z
      .strictObject({
        battlesPerMinute: z.number().int().positive().default(20),
        promptsPerMinutePerIp: z.number().int().positive().default(120),
        votesPerMinute: z.number().int().positive().default(60),
        connectionsPerMinutePerIp: z.number().int().positive().default(120),
        eventsPerSecond: z.number().int().positive().default(40),
        /** Packets waiting for one client before it is dropped (it resumes from its last seq). */
        maxBufferedPackets: z.number().int().positive().default(2_000),
        /** Largest body POST /api/admin/import accepts (a FastChat battle file). */
        importMaxBytes: z.number().int().positive().default(256 * 1024 * 1024),
      })
      .prefault({}),
    /** Prometheus /metrics on its own listener, never the public port; internal (loopback) by default. */
    metrics: z
      .strictObject({
        port: z.number().int().min(0).max(65535).default(9464),
        host: z.string().default('127.0.0.1'),
      })
      .prefault({}),
    /** Use X-Forwarded-For for client IPs (only behind a proxy you control). */
    trustProxy: z.boolean().default(false),
    /** Bearer token for /api/admin/*; unset = the admin API is off. Prefer env ARENA_ADMIN_TOKEN. */
    adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
    /**
     * Who may download exports (every session's conversations): only with the admin token, or,
     * as an explicit opt-in, everyone, which the duel page's data notice then states.
     */
    exportAccess: z.enum(['public', 'admin']).default('admin'),
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
    const gpuIds = new Set(cfg.gpus.map((g) => g.id));
    cfg.gpus.forEach((g, i) => {
      if (cfg.gpus.findIndex((o) => o.id === g.id) !== i) ctx.addIssue({ code: 'custom', path: ['gpus', i, 'id'], message: `duplicate GPU id "${g.id}"` });
    });
    cfg.backends.forEach((b, i) => {
      if (b.gpuId !== undefined && !gpuIds.has(b.gpuId))
        ctx.addIssue({ code: 'custom', path: ['backends', i, 'gpu'], message: `unknown GPU "${b.gpuId}" (declared: ${[...gpuIds].join(', ') || 'none'})` });
      if (b.gpuId !== undefined && b.vramMb !== undefined)
        ctx.addIssue({ code: 'custom', path: ['backends', i, 'vramMb'], message: `the budget of GPU "${b.gpuId}" is its memory; drop vramMb` });
      if (b.gpuId === undefined && b.vramMb !== undefined && gpuIds.has(b.id))
        ctx.addIssue({ code: 'custom', path: ['backends', i, 'id'], message: `"${b.id}" is also a GPU id: a backend with its own vramMb is its own GPU` });
    });
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
export type GpuConfig = z.infer<typeof GpuSchema>;
export type ModelConfig = z.infer<typeof ModelSchema>;
export type DeploymentConfig = z.infer<typeof DeploymentSchema>;
