import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

describe('a vote during a Redis outage, in Chromium', () => {
  let redis: RedisServer;
  let arena: ArenaProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    redis = await startRedisServer();
    arena = await startArenaProcess({ REDIS_URL: redis.url });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
    await redis?.close();
  });

  it('is refused as unavailable with a retry hint, keeps the vote buttons, and counts once retried after recovery', async () => {
    await page.goto(arena.url);
    await page.waitForSelector('[data-ready=true]');
    await page.getByTestId('prompt').fill(`Why is the sky blue? ${randomUUID()}`);
    await page.getByTestId('send').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement | null)?.disabled === false, null, { timeout: 30_000 });

    await redis.kill('SIGKILL');
    await page.getByTestId('vote-left').click();
    const toast = page.getByTestId('toast').filter({ hasText: 'Try again' });
    await toast.waitFor({ timeout: 15_000 });
    expect(await toast.innerText()).toMatch(/nothing was saved\. Try again in \d+ s/);
    expect(await page.getByTestId('reveal-left').count()).toBe(0);
    await page.waitForFunction(() => (document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement | null)?.disabled === false, null, { timeout: 5_000 });

    await redis.start();
    // The user retries (Redis reconnects within about a second) until the vote is stored.
    const deadline = Date.now() + 15_000;
    while ((await page.getByTestId('reveal-left').count()) === 0 && Date.now() < deadline) {
      if (await page.getByTestId('vote-left').isEnabled().catch(() => false)) await page.getByTestId('vote-left').click().catch(() => undefined);
      await page.waitForTimeout(1_000);
    }
    await page.getByTestId('reveal-left').waitFor({ timeout: 1_000 });
    expect(arena.proc.exitCode).toBeNull();
    expect(arena.logs.filter((l) => 'fault' in l)).toEqual([]);
  });
});
