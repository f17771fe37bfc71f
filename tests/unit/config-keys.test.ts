import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config/load.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'arena-config-')), 'arena.config.yaml');
  writeFileSync(path, text);
  return path;
}

function errorOf(text: string): string {
  try {
    loadConfig({ file: file(text), env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('unknown configuration keys', () => {
  it('the shipped example file is valid as it is', () => {
    const { config } = loadConfig({ file: 'arena.config.example.yaml', env: {} });
    expect(config.limits.battlesPerMinute).toBe(20);
    expect(config.backends.map((b) => b.id)).toEqual(['gpu', 'cpu']);
    expect(config.models).toHaveLength(2);
  });

  it('the docker-compose configuration is valid as it is', () => {
    expect(loadConfig({ file: 'deploy/arena.compose.yaml', env: {} }).config.backends[0].id).toBe('sim');
  });

  it('stops start-up on a key valid elsewhere, naming where it belongs', () => {
    expect(errorOf('arena:\n  battlesPerMinute: 20\n')).toContain('arena.battlesPerMinute: unknown key; did you mean "limits.battlesPerMinute"?');
  });

  it('names the nearest valid key for a typo, at every depth and inside lists', () => {
    const message = errorOf(
      [
        'redisURL: redis://127.0.0.1:6379',
        'limits: { battlesPerMinutes: 3 }',
        'backends:',
        '  - { id: a, kind: ollama, url: "http://127.0.0.1:1", apikeyenv: X }',
        'models:',
        '  - { id: m, deployments: [{ backend: a, model: x, sizeMB: 3 }] }',
        'router: { llm: { backend: a, model: m, timeout: 3 } }',
      ].join('\n'),
    );
    for (const expected of [
      'redisURL: unknown key; did you mean "redisUrl"?',
      'limits.battlesPerMinutes: unknown key; did you mean "limits.battlesPerMinute"?',
      'backends[0].apikeyenv: unknown key; did you mean "backends[0].apiKeyEnv"?',
      'models[0].deployments[0].sizeMB: unknown key; did you mean "models[0].deployments[0].sizeMb"?',
      'router.llm.timeout: unknown key; did you mean "router.llm.timeoutMs"?',
    ])
      expect(message).toContain(expected);
  });

  it('lists the valid keys when nothing is near', () => {
    const message = errorOf('health:\n  zzqqxx: 1\n');
    expect(message).toContain('health.zzqqxx: unknown key; valid keys here: intervalMs, timeoutMs, closeAfter, openAfter, coolDownMs, minTokensPerSecond, degradedQueueDepth');
  });
});
