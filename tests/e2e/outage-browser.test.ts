import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

/** What the duel page says and allows when the connection drops, and when the models go down. */
describe('honest states in Chromium: offline and outage', () => {
  let arena: ArenaProcess;
  let simUrl: string;
  let browser: Browser;
  let page: Page;
  /** While true, every socket is cut and reconnects are refused: the server is out of reach. */
  let unreachable = false;
  const sockets: WebSocketRoute[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    arena = await startArenaProcess();
    simUrl = String(arena.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('DEMO MODE'))!.url);
    browser = await launchBrowser();
    const context = await browser.newContext();
    await context.routeWebSocket(/\/socket\.io\//, (ws) => {
      if (unreachable) return void ws.close({ code: 1006 });
      sockets.push(ws);
      const server = ws.connectToServer();
      ws.onMessage((message) => server.send(message));
      server.onMessage((message) => ws.send(message));
    });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
  });

  async function simFault(fault: object): Promise<void> {
    const res = await fetch(`${simUrl}/_sim/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault }) });
    expect(res.status).toBe(200);
  }

  it('pauses a streaming duel while disconnected: no moving dots, actions off, then carries on', async () => {
    await page.goto(arena.url);
    await page.locator('[data-ready=true]').waitFor();
    await simFault({ kind: 'slow', factor: 10 });
    await page.getByTestId('prompt').fill('How do rainbows form?');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="status-left"][data-status=streaming]').waitFor({ timeout: 20_000 });

    unreachable = true;
    for (const ws of sockets.splice(0)) await ws.close({ code: 1006 });
    await page.getByTestId('offline').waitFor();
    expect(await page.getByTestId('offline').innerText()).toBe('paused — reconnecting');
    expect(await page.getByTestId('status-left').innerText()).toBe('paused — reconnecting');
    expect(await page.locator('[data-testid="status-left"] .dots').count()).toBe(0);
    expect(await page.getByTestId('stop').isDisabled()).toBe(true);
    expect(await page.getByTestId('regenerate').isDisabled()).toBe(true);
    expect(await page.getByTestId('send').isDisabled()).toBe(true);
    expect(await page.getByTestId('send-blocked').innerText()).toMatch(/reconnecting/i);

    unreachable = false;
    await page.getByTestId('offline').waitFor({ state: 'detached', timeout: 20_000 });
    expect(await page.getByTestId('send-blocked').count()).toBe(0);
    // Back online, the actions work again: Stop ends the slowed answers.
    await page.getByTestId('stop').click();
    await page.locator('[data-testid="status-right"]:is([data-status=done], [data-status=stopped], [data-status=error])').waitFor({ timeout: 30_000 });
    expect(pageErrors).toEqual([]);
  });

  it('shows "0 of 5 models up" with a link to /status, and Send says why it is off', async () => {
    await page.getByTestId('new-round').click();
    await simFault({ kind: 'none' });
    await simFault({ kind: 'down' });
    const banner = page.getByTestId('outage-banner');
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.innerText()).toMatch(/0 of 5 models up/);
    expect(await banner.locator('a').getAttribute('href')).toBe('/status');
    await page.getByTestId('prompt').fill('Anyone there?');
    expect(await page.getByTestId('send').isDisabled()).toBe(true);
    expect(await page.getByTestId('send-blocked').innerText()).toMatch(/0 of 5 models are up/);
    expect(pageErrors).toEqual([]);
  });
});
