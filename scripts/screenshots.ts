/**
 * Renders every page and state of the UI into docs/screenshots/ (PNG): the duel empty, streaming,
 * finished and revealed, a finished tournament, a named side-by-side comparison, My battles, a spectator's view, the leaderboard, /status, the
 * 404 page and an invalid watch link; desktop (1440×900) and phone (390×844), light, plus dark for
 * the duel. Runs the built server in demo mode with a fresh data directory.
 *
 *   npm run build && npx tsx scripts/screenshots.ts
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { spawnArena, stopProcess } from './lib/arena-process.js';

const OUT = 'docs/screenshots';
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const SETTLED = '[data-status=done], [data-status=stopped], [data-status=error]';

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-shots-'));
  const logs: Record<string, unknown>[] = [];
  const { url, proc } = await spawnArena({ env: { DATA_DIR: dataDir, ARENA_DEMO: 'on' }, onLog: (entry) => logs.push(entry) });
  const simUrl = String(logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('DEMO MODE'))?.url);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  const page = await (await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 })).newPage();
  const shots: string[] = [];

  /** The current state at desktop and phone size (and dark, when asked), without reloading it. */
  async function shoot(name: string, dark = false): Promise<void> {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      for (const scheme of dark ? (['light', 'dark'] as const) : (['light'] as const)) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        const file = `${OUT}/${name}-${size}${scheme === 'dark' ? '-dark' : ''}.png`;
        await page.screenshot({ path: file });
        shots.push(file);
      }
    }
    await page.setViewportSize(DESKTOP);
  }
  const fault = (body: object) =>
    fetch(`${simUrl}/_sim/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: body }) });
  const settled = async () => {
    for (const side of ['left', 'right']) await page.locator(`[data-testid="status-${side}"]:is(${SETTLED})`).waitFor({ state: 'attached', timeout: 30_000 });
  };
  const send = async (page: Page, prompt: string) => {
    await page.getByTestId('prompt').fill(prompt);
    await page.keyboard.press('Enter');
  };

  try {
    await page.goto(url);
    await page.locator('[data-ready=true]').waitFor();
    await shoot('duel-empty', true);

    await fault({ kind: 'slow', factor: 6 });
    await send(page, 'Compare arrays vs linked lists');
    // A string runs in the page (this file is type-checked without DOM types: tsconfig.server.json).
    await page.waitForFunction(`(document.querySelector('[data-testid="answer-left"]')?.textContent ?? '').length > 60`, null, { timeout: 30_000 });
    await shoot('duel-streaming');
    await fault({ kind: 'none' });
    await settled();
    await shoot('duel-finished', true);
    const shareUrl = await page.getByTestId('share-link').getAttribute('href');
    await page.keyboard.press('1');
    await page.getByTestId('reveal-left').waitFor();
    await shoot('duel-revealed', true);

    await page.getByTestId('new-round').click();
    await send(page, 'Write a python function to dedupe a list');
    await settled();
    await shoot('duel-code');

    await page.getByTestId('new-round').click();
    await page.getByTestId('mode-tournament').click();
    await send(page, 'What is the formula for the sum of 1 to n?');
    for (;;) {
      await settled();
      await page.getByTestId('vote-left').click();
      await page.getByTestId('reveal-left').waitFor();
      if (await page.getByTestId('tournament-ranking').isVisible()) break;
      await page.getByTestId('next').click();
      await page.getByTestId('reveal-left').waitFor({ state: 'detached' });
    }
    await shoot('tournament-finished');

    await page.getByTestId('new-round').click();
    await page.getByTestId('mode-named').click();
    await page.locator('[data-testid="pick-left"] option:not([disabled])').first().waitFor({ state: 'attached' });
    const names = await page.locator('[data-testid="pick-left"] option:not([disabled])').allTextContents();
    await page.getByTestId('pick-left').selectOption({ label: names[0]! });
    await page.getByTestId('pick-right').selectOption({ label: names[3]! });
    await send(page, 'Write a typescript function to dedupe a list');
    await settled();
    await shoot('named-side-by-side');

    await page.goto(new URL('/battles', url).href);
    await page.locator('[data-ready=true]').waitFor();
    await shoot('my-battles');

    await page.goto(shareUrl!);
    await page.getByTestId('spectator-badge').waitFor();
    await shoot('watch');
    await page.goto(new URL('/watch/no-such-duel?t=expired', url).href);
    await page.getByTestId('watch-error').waitFor();
    await shoot('watch-invalid-link');
    await page.goto(new URL('/leaderboard', url).href);
    await page.getByTestId('leaderboard-table').waitFor();
    await shoot('leaderboard', true);
    await page.goto(new URL('/status', url).href);
    await page.locator('[data-ready=true]').waitFor();
    await shoot('status');
    await page.goto(new URL('/no-such-page', url).href);
    await page.getByTestId('error-page').waitFor();
    await shoot('not-found');
    console.log(`${shots.length} screenshots in ${OUT}/`);
  } finally {
    await browser.close();
    await stopProcess(proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
