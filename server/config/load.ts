import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { knownKeyPaths, nearestKey } from './key-suggestions.js';
import { ConfigSchema, type Config } from './schema.js';

/** Start-up configuration failure: `message` is meant for a person, never a stack trace. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Environment variables that override a config key. Values are strings; the schema coerces. */
const ENV_OVERRIDES: Record<string, { key: string; parse: (v: string) => unknown }> = {
  PORT: { key: 'port', parse: numberish },
  HOST: { key: 'host', parse: String },
  REDIS_URL: { key: 'redisUrl', parse: String },
  REDIS_CLUSTER: { key: 'redisCluster', parse: (v) => (v === 'auto' ? v : ['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) },
  REDIS_PREFIX: { key: 'redisPrefix', parse: String },
  DATA_DIR: { key: 'dataDir', parse: String },
  LOG_LEVEL: { key: 'logLevel', parse: String },
  OLLAMA_URL: { key: 'ollamaUrl', parse: String },
  ARENA_DEMO: { key: 'demo', parse: String },
  ARENA_ADMIN_TOKEN: { key: 'adminToken', parse: String },
  METRICS_PORT: { key: 'metrics.port', parse: numberish },
  METRICS_HOST: { key: 'metrics.host', parse: String },
  ARENA_FRAMES_COALESCE: { key: 'arena.frames.coalesce', parse: String },
  ARENA_FRAMES_MAX_WAIT_MS: { key: 'arena.frames.maxWaitMs', parse: numberish },
  ARENA_FRAMES_WINDOW_MS: { key: 'arena.frames.windowMs', parse: numberish },
  ALLOWED_ORIGINS: { key: 'allowedOrigins', parse: (v) => v.split(',').map((s) => s.trim()).filter(Boolean) },
};

function numberish(v: string): unknown {
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

export const DEFAULT_CONFIG_FILE = 'arena.config.yaml';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Explicit file; else ARENA_CONFIG; else ./arena.config.yaml when it exists; else defaults. */
  file?: string;
}

export function loadConfig(opts: LoadOptions = {}): { config: Config; source: string } {
  const env = opts.env ?? process.env;
  const file = opts.file ?? (env.ARENA_CONFIG || undefined) ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const raw = file ? readConfigFile(file) : {};
  const fromEnv: Record<string, string> = {};
  for (const [name, { key, parse }] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setKey(raw, key, parse(value));
    fromEnv[key] = name;
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error, file, fromEnv));
  return { config: result.data, source: file ? resolve(file) : '(defaults)' };
}

/** Sets a dotted key (`metrics.port`), creating the sections on the way. */
function setKey(raw: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = raw;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = node[part] = next !== null && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : {};
  }
  node[parts.at(-1)!] = value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`Config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed == null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`Config file ${file} must hold a mapping of keys at the top level`);
  return parsed as Record<string, unknown>;
}

function formatIssues(error: z.ZodError, file: string | undefined, fromEnv: Record<string, string>): string {
  const lines = error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `  - ${unknownKeyMessage(issue.path, key)}`);
    const variable = fromEnv[keyPath(issue.path)] ?? fromEnv[String(issue.path[0])];
    const origin = variable ? ` (from env ${variable})` : '';
    return [`  - ${keyPath(issue.path) || '(top level)'}${origin}: ${issue.message}`];
  });
  return `Invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`;
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

/** A misspelt or misplaced key stops start-up: silently ignoring it would run with the default. */
function unknownKeyMessage(parent: readonly PropertyKey[], key: string): string {
  const near = nearestKey(knownKeyPaths(ConfigSchema), parent, key);
  const hint = near?.path
    ? `did you mean "${near.path}"?`
    : near?.siblings.length
      ? `valid keys here: ${near.siblings.join(', ')}`
      : 'no keys are allowed here';
  return `${keyPath([...parent, key])}: unknown key; ${hint} (every key: docs/configuration.md)`;
}

/** The resolved config for `config check`: API keys shown only as set/unset, URL passwords masked. */
export function describeConfig(config: Config, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  return {
    ...config,
    redisUrl: config.redisUrl && config.redisUrl.split(',').map((u) => maskUrlPassword(u.trim())).join(','),
    adminToken: config.adminToken && maskSecret(config.adminToken),
    backends: config.backends.map((b) => ({
      ...b,
      url: maskUrlPassword(b.url),
      ...(b.apiKeyEnv ? { apiKey: env[b.apiKeyEnv] ? `set (${b.apiKeyEnv}, ${maskSecret(env[b.apiKeyEnv]!)})` : `UNSET (${b.apiKeyEnv})` } : {}),
    })),
  };
}

export function maskSecret(secret: string): string {
  return secret.length <= 8 ? '****' : `****${secret.slice(-4)}`;
}

export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return url;
  }
}
