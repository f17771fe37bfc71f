import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_MODELS } from '../../scripts/fuzz.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { launchBrowser } from '../helpers/browser.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

/**
 * Arena as people deploy it, in Chromium: at a LAN name over plain HTTP (not localhost, which
 * browsers treat as secure), and behind the repository's nginx config run by Debian's nginx,
 * plain and terminating TLS. In each: a full duel, a vote and a spectator joining from the
 * share link. One browser and one Arena process serve every case.
 */
describe('deployments in Chromium', () => {
  let sim: Simulator;
  let arena: ArenaProcess;
  let browser: Browser;
  let dir: string;
  const proxies: RunningNginx[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: FAST_MODELS, preloaded: true });
    dir = mkdtempSync(join(tmpdir(), 'arena-deploy-'));
    writeFileSync(join(dir, 'arena.config.yaml'), JSON.stringify({ backends: [{ id: 'sim', kind: 'ollama', url: sim.url }] }));
    arena = await startArenaProcess({ ARENA_CONFIG: join(dir, 'arena.config.yaml'), ARENA_DEMO: 'off' });
    browser = await launchBrowser(['--host-resolver-rules=MAP arena.test 127.0.0.1', '--ignore-certificate-errors']);
  });
  afterAll(async () => {
    await browser?.close();
    for (const proxy of proxies) await proxy.stop();
    await arena?.stop();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function nginx(opts: Omit<Parameters<typeof startNginx>[0], 'upstreams'>): Promise<number> {
    const proxy = await startNginx({ ...opts, upstreams: [new URL(arena.url).host] });
    proxies.push(proxy);
    return proxy.port;
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return { context, page };
  }

  /** Owner duels and votes; a second browser session watches from the share link. */
  async function duelVoteAndWatch(base: string): Promise<{ secureCookie: boolean }> {
    const owner = await newPage();
    const watcher = await newPage();
    try {
      await owner.page.goto(base);
      await owner.page.locator('[data-ready=true]').waitFor({ timeout: 15_000 });
      // Exports are admin-only by default, and the data notice does not claim otherwise.
      const notice = await owner.page.getByTestId('data-notice').innerText();
      expect(notice).toMatch(/stored/);
      expect(notice).not.toContain('Public export');
      await owner.page.getByTestId('prompt').fill('How do tides work?');
      await owner.page.getByTestId('send').click();
      const shareUrl = await owner.page.getByTestId('share-link').getAttribute('href');
      expect(shareUrl?.startsWith(`${base}/watch/`), `share link ${shareUrl} on ${base}`).toBe(true);
      await watcher.page.goto(shareUrl!);
      await watcher.page.getByTestId('spectator-badge').waitFor();
      await owner.page.waitForFunction(() => !(document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement | null)?.disabled, null, {
        timeout: 20_000,
      });
      // The spectator follows the same answers.
      await watcher.page.waitForFunction(() => (document.querySelector('[data-testid="answer-left"]')?.textContent ?? '').trim().length > 0, null, {
        timeout: 20_000,
      });
      await owner.page.getByTestId('vote-left').click();
      await owner.page.getByTestId('reveal-left').waitFor({ timeout: 10_000 });
      expect(await owner.page.getByTestId('page-error').count()).toBe(0);
      const cookie = (await owner.context.cookies()).find((c) => c.name === 'arena_session');
      expect(cookie, 'session cookie kept by the browser').toBeDefined();
      return { secureCookie: cookie!.secure };
    } finally {
      await owner.context.close();
      await watcher.context.close();
    }
  }

  it('works at a LAN name over plain HTTP, straight to the instance (cookie not Secure)', async () => {
    const { secureCookie } = await duelVoteAndWatch(`http://arena.test:${new URL(arena.url).port}`);
    expect(secureCookie).toBe(false);
  });

  it('works behind the shipped nginx config over plain HTTP', async () => {
    const port = await nginx({});
    const { secureCookie } = await duelVoteAndWatch(`http://arena.test:${port}`);
    expect(secureCookie).toBe(false);
  });

  it('works behind the shipped nginx config terminating TLS (X-Forwarded-Proto https: cookie Secure)', async () => {
    const port = await nginx({ tls: true });
    const { secureCookie } = await duelVoteAndWatch(`https://arena.test:${port}`);
    expect(secureCookie).toBe(true);
  });

  it('names cause and fix, permanently, when the browser drops the session cookie', async () => {
    // A proxy that claims https to a browser on plain http: the cookie is Secure and Chromium drops it.
    const port = await nginx({ forwardedProto: 'https' });
    const { context, page } = await newPage();
    try {
      await page.goto(`http://arena.test:${port}`);
      const message = page.getByTestId('page-error');
      await message.waitFor({ timeout: 10_000 });
      expect(await message.innerText()).toMatch(/session cookie.*X-Forwarded-Proto.*allow cookies/s);
      // Not a toast that goes away: still there well after a toast would have gone.
      await page.waitForTimeout(7_000);
      expect(await message.isVisible()).toBe(true);
      expect(await page.getByTestId('send').isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('raised no page errors and no process faults', async () => {
    expect(pageErrors).toEqual([]);
    expect(arena.logs.filter((l) => l.fault)).toEqual([]);
    const metrics = await (await fetch(arena.metricsUrl)).text();
    expect(metrics).toContain('arena_process_faults_total{kind="unhandledRejection"} 0');
    expect(metrics).toContain('arena_process_faults_total{kind="uncaughtException"} 0');
  });
});
