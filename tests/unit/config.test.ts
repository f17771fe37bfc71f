import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../server/config/load.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'arena-config-')), 'arena.config.yaml');
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has working defaults with no file and no environment', () => {
    const { config, source } = loadConfig({ env: {} });
    expect(source).toBe('(defaults)');
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', dataDir: './data', demo: 'auto', backends: [], models: [] });
    expect(config.timeouts).toEqual({ connectMs: 5000, firstTokenMs: 60000, idleMs: 30000 });
  });

  it('reads the file and lets the environment override it', () => {
    const path = file('port: 4000\nbackends:\n  - { id: cpu, kind: ollama, url: "http://127.0.0.1:11434" }\nmodels:\n  - id: llama\n    deployments: [{ backend: cpu, model: "llama3.1:8b" }]\n');
    const { config } = loadConfig({ file: path, env: { PORT: '5000', REDIS_URL: 'redis://127.0.0.1:6379', ALLOWED_ORIGINS: 'https://a.example, https://b.example' } });
    expect(config.port).toBe(5000);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.models[0].deployments[0]).toEqual({ backend: 'cpu', model: 'llama3.1:8b' });
  });

  it('names the bad key and where it came from', () => {
    expect(errorOf(() => loadConfig({ env: { PORT: 'ninety' } }))).toMatch(/port \(from env PORT\): .*number/);
    expect(errorOf(() => loadConfig({ env: { REDIS_URL: 'http://x' } }))).toMatch(/redisUrl \(from env REDIS_URL\): must be a redis/);
    const path = file('backends:\n  - { id: cpu, kind: llamacpp, url: "not a url" }\nmodels:\n  - id: m\n    deployments: [{ backend: gpu, model: x }]\n');
    const message = errorOf(() => loadConfig({ file: path, env: {} }));
    expect(message).toContain(`Invalid configuration in ${path}`);
    expect(message).toMatch(/backends\[0\]\.kind: /);
    expect(message).toMatch(/backends\[0\]\.url: must be an http\(s\) URL/);
    const unknownBackend = file('backends:\n  - { id: cpu, kind: ollama, url: "http://127.0.0.1:11434" }\nmodels:\n  - id: m\n    deployments: [{ backend: gpu, model: x }]\n');
    expect(errorOf(() => loadConfig({ file: unknownBackend, env: {} }))).toMatch(
      /models\[0\]\.deployments\[0\]\.backend: unknown backend "gpu" \(declared: cpu\)/,
    );
  });

  it('reports unreadable or malformed files plainly', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/arena.yaml', env: {} }))).toMatch(/Cannot read config file .*ENOENT/);
    expect(errorOf(() => loadConfig({ file: file('port: [1, 2'), env: {} }))).toMatch(/not valid YAML/);
    expect(errorOf(() => loadConfig({ file: file('- just\n- a list\n'), env: {} }))).toMatch(/mapping of keys/);
  });

  it('describes the config with secrets masked', () => {
    const { config } = loadConfig({
      env: {},
      file: file('redisUrl: "redis://:hunter2@127.0.0.1:6379"\nbackends:\n  - { id: oa, kind: openai, url: "https://api.openai.com/v1", apiKeyEnv: OPENAI_API_KEY }\n'),
    });
    const text = JSON.stringify(describeConfig(config, { OPENAI_API_KEY: 'sk-abcdefghijklmnop' }));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('sk-abcdefghijklmnop');
    expect(text).toContain('****mnop');
  });
});
