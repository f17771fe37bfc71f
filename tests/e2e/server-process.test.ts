import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startArenaProcess, type ArenaProcess } from '../helpers/process.js';

describe('the production server process', () => {
  let arena: ArenaProcess;
  beforeAll(async () => {
    arena = await startArenaProcess();
  });
  afterAll(() => arena.stop());

  it('serves the page, /healthz, /readyz and /metrics on one port', async () => {
    const page = await fetch(arena.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('set-cookie')).toMatch(/arena_session=[A-Za-z0-9_-]{43}; .*HttpOnly/i);

    expect(await (await fetch(`${arena.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${arena.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { store: { ok: true }, models: { ok: true } } });

    const metrics = await (await fetch(`${arena.url}/metrics`)).text();
    for (const name of ['process_cpu_seconds_total', 'arena_connected_clients', 'arena_tokens_relayed_total', 'arena_votes_total'])
      expect(metrics).toContain(name);
    expect(metrics).toContain('arena_process_faults_total{kind="unhandledRejection"} 0');
    expect(metrics).toContain('arena_process_faults_total{kind="uncaughtException"} 0');
  });

  it('labels the demo models as demo in logs and in /api/models', async () => {
    expect(arena.logs.some((l) => String(l.msg).includes('DEMO MODE'))).toBe(true);
    const report = await (await fetch(`${arena.url}/api/models`)).json();
    expect(JSON.stringify(report)).toContain('"demo":true');
  });

  it('writes structured JSON logs', () => {
    expect(arena.logs.length).toBeGreaterThan(0);
    for (const line of arena.logs) expect(line).toHaveProperty('level');
  });
});

describe('process lifecycle and configuration', () => {
  it('exits promptly and cleanly on SIGTERM', async () => {
    const arena = await startArenaProcess();
    const { code, ms } = await arena.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5_000);
  });

  it('refuses a bad configuration with a message naming the key, never a stack trace', async () => {
    const { code, stderr } = await runCli(['serve'], { PORT: 'ninety', ARENA_CONFIG: '' });
    expect(code).toBe(2);
    expect(stderr).toContain('port (from env PORT)');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('`config check` prints the resolved configuration with secrets masked', async () => {
    const secret = 'sk-test-0123456789abcdefSECRET';
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'arena-cfg-')), 'arena.yaml');
    writeFileSync(file, 'backends:\n  - { id: oa, kind: openai, url: "https://api.openai.com/v1", apiKeyEnv: OPENAI_API_KEY }\nredisUrl: "redis://:hunter2@127.0.0.1:6379"\n');
    const { code, stdout } = await runCli(['config', 'check'], { ARENA_CONFIG: file, OPENAI_API_KEY: secret });
    expect(code).toBe(0);
    expect(stdout).not.toContain(secret);
    expect(stdout).not.toContain('hunter2');
    expect(stdout).toContain('****CRET');
    expect(stdout).toContain('"port": 3000');
  });
});
