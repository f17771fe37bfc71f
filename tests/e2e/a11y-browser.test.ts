import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type AxeFinding } from '../helpers/axe.js';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

/** Every page and state is audited at each of these: desktop and phone, light and dark. */
const LOOKS = [
  { name: 'desktop light', viewport: { width: 1440, height: 900 }, colorScheme: 'light' },
  { name: 'desktop dark', viewport: { width: 1440, height: 900 }, colorScheme: 'dark' },
  { name: 'phone light', viewport: { width: 390, height: 844 }, colorScheme: 'light' },
  { name: 'phone dark', viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
] as const;

const SETTLED = '[data-status=done], [data-status=stopped], [data-status=interrupted], [data-status=error]';

describe('accessibility of every page and state (axe-core)', () => {
  let arena: ArenaProcess;
  let simUrl: string;
  let browser: Browser;
  let page: Page;
  const audited: string[] = [];
  const failures: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    arena = await startArenaProcess();
    simUrl = String(arena.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('DEMO MODE'))!.url);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: LOOKS[0].viewport })).newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
  });

  /** The same DOM, audited in each look without reloading it (the state stays as it is). */
  async function audit(state: string): Promise<void> {
    for (const look of LOOKS) {
      await page.setViewportSize(look.viewport);
      await page.emulateMedia({ colorScheme: look.colorScheme, reducedMotion: 'reduce' });
      const violations: AxeFinding[] = await axeViolations(page);
      audited.push(`${state} · ${look.name}`);
      // No page may scroll sideways: wide content scrolls inside its own region.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) failures.push(`${state} · ${look.name}: the page scrolls sideways by ${overflow} px`);
      for (const v of violations) failures.push(`${state} · ${look.name}: [${v.impact}] ${v.id}: ${v.help}\n    ${v.targets.join('\n    ')}`);
    }
    await page.setViewportSize(LOOKS[0].viewport);
  }

  /** Demo models answer on this server: every page must say so. */
  const demoBadges: string[] = [];
  async function expectDemoBadge(state: string): Promise<void> {
    await page.getByTestId('demo-badge').waitFor({ timeout: 10_000 });
    demoBadges.push(state);
  }

  async function simFault(fault: object): Promise<void> {
    const res = await fetch(`${simUrl}/_sim/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault }) });
    expect(res.status).toBe(200);
  }

  async function send(prompt: string): Promise<void> {
    await page.getByTestId('prompt').fill(prompt);
    await page.getByTestId('send').click();
  }

  async function bothSettled(): Promise<void> {
    for (const side of ['left', 'right']) await page.locator(`[data-testid="status-${side}"]:is(${SETTLED})`).waitFor({ state: 'attached', timeout: 20_000 });
  }

  it('finds no violation of any impact on the duel, tournament, watch, leaderboard, status and error pages', async () => {
    await page.goto(arena.url);
    await page.locator('[data-ready=true]').waitFor();
    await expectDemoBadge('duel');
    // A first visit: the data notice is part of what is audited, and goes once a prompt is sent.
    expect(await page.getByTestId('data-notice').innerText()).toMatch(/stored/);
    await audit('duel empty');

    // Slowed down so the answers are still streaming while it is audited four times.
    await simFault({ kind: 'slow', factor: 20 });
    await send('How do rainbows form?');
    await page.locator('[data-testid="status-left"][data-status=streaming]').waitFor({ timeout: 20_000 });
    await audit('duel streaming');
    expect(await page.getByTestId('data-notice').count()).toBe(0);
    await simFault({ kind: 'none' });
    await page.getByTestId('stop').click();
    await bothSettled();
    await page.getByTestId('new-round').click();

    // Rendered markdown of every kind (table, highlighted code, maths) is part of what is audited.
    const answer = '| Structure | Lookup |\n| --- | --- |\n| Array | O(1) |\n\n```js\nconst x = [1, 2]; // note\n```\n\nThe ratio is $\\frac{1 + \\sqrt{5}}{2}$.';
    await page.getByTestId('route-arena').click(); // a duel, whatever the router makes of base64
    await send(`[[echo:${Buffer.from(answer).toString('base64')}]]`);
    await page.locator('[data-testid="answer-left"] .katex').waitFor({ state: 'attached', timeout: 20_000 });
    await page.locator('[data-testid="answer-left"] .hljs-keyword').first().waitFor({ state: 'attached' });
    await bothSettled();
    await audit('duel finished');
    const shareUrl = await page.getByTestId('share-link').getAttribute('href');
    await page.getByTestId('vote-left').click();
    await page.getByTestId('reveal-left').waitFor();
    await audit('duel revealed');

    // Failed answers: only "Both are bad" stays open, Regenerate becomes the main action, a banner says why.
    await page.getByTestId('new-round').click();
    await simFault({ kind: 'error_after', tokens: 2 });
    await send('Why is the sky blue?');
    for (const side of ['left', 'right']) await page.locator(`[data-testid="status-${side}"][data-status=error]`).waitFor({ timeout: 20_000 });
    await page.getByTestId('failed-banner').waitFor();
    await audit('duel failed answers');
    await simFault({ kind: 'none' });

    await page.getByTestId('new-round').click();
    await page.getByTestId('route-auto').click();
    await page.getByTestId('mode-tournament').click();
    await send('Name a prime number.');
    for (;;) {
      await bothSettled();
      await page.getByTestId('vote-left').click();
      await page.getByTestId('reveal-left').waitFor();
      if (await page.getByTestId('tournament-ranking').isVisible()) break;
      await page.getByTestId('next').click();
      await page.getByTestId('reveal-left').waitFor({ state: 'detached' });
    }
    await audit('tournament finished');
    // Results by outcome, never a list of win counts that seems to contradict its own order.
    const outcomes = await page.getByTestId('tournament-outcome').allInnerTexts();
    expect(outcomes).toHaveLength(5);
    expect(outcomes[0]).toMatch(/^Champion · knocked out /);
    expect(outcomes[1]).toMatch(/^Lost the final to /);
    expect(outcomes.slice(2).every((text) => /^Out in round [123], to /.test(text))).toBe(true);
    expect(await page.getByTestId('to-leaderboard').getAttribute('href')).toBe('/leaderboard');
    await page.getByTestId('tournament-again').click();
    await page.getByTestId('tournament-ranking').waitFor({ state: 'detached' });
    expect(await page.getByTestId('tournament-progress').innerText()).toMatch(/Round 1 of 4/);
    expect(await page.locator('[data-testid="column-left"] .prompt').innerText()).toBe('Name a prime number.');

    // Side by side by name: two models picked, named from the start, no vote.
    await page.getByTestId('new-round').click();
    await page.getByTestId('mode-named').click();
    await page.locator('[data-testid="pick-left"] option:not([disabled])').first().waitFor({ state: 'attached' });
    const options = await page.locator('[data-testid="pick-left"] option:not([disabled])').allTextContents();
    expect(options).toHaveLength(5);
    await page.getByTestId('pick-left').selectOption({ label: options[0]! });
    await page.getByTestId('pick-right').selectOption({ label: options[1]! });
    await send('Compare tea vs coffee');
    await bothSettled();
    expect(await page.getByTestId('named-left').innerText()).toBe(options[0]);
    expect(await page.getByTestId('named-right').innerText()).toBe(options[1]);
    expect(await page.getByTestId('named-not-rated').isVisible()).toBe(true);
    expect(await page.getByTestId('vote-left').count()).toBe(0);
    await audit('named side by side');

    // My battles: every battle of this session, the voted ones with their names.
    await page.goto(new URL('/battles', arena.url).href);
    await page.locator('[data-ready=true]').waitFor();
    await expectDemoBadge('my battles');
    const items = await page.getByTestId('battle-outcome').allInnerTexts();
    expect(items.length).toBeGreaterThanOrEqual(7);
    expect(items.some((text) => /^You said A was better · A was .+, B was .+$/.test(text))).toBe(true);
    expect(items[0]).toBe(`Side by side · ${options[0]} vs ${options[1]} · not rated`);
    await audit('my battles');

    await page.goto(shareUrl!);
    await page.getByTestId('spectator-badge').waitFor();
    await expectDemoBadge('watch');
    await audit('watch');

    await page.goto(new URL('/watch/no-such-battle?t=wrong', arena.url).href);
    await page.getByTestId('watch-error').waitFor();
    await expectDemoBadge('watch, invalid link');
    await audit('watch, invalid link');

    await page.goto(new URL('/leaderboard', arena.url).href);
    await page.getByTestId('leaderboard-table').waitFor();
    await expectDemoBadge('leaderboard');
    await audit('leaderboard');

    await page.goto(new URL('/status', arena.url).href);
    await page.locator('[data-ready=true]').waitFor();
    await expectDemoBadge('status');
    await audit('status');

    await page.goto(new URL('/no-such-page', arena.url).href);
    await page.locator('h1').waitFor();
    await expectDemoBadge('404');
    await audit('404');

    expect(audited).toHaveLength(13 * LOOKS.length);
    expect(demoBadges).toHaveLength(7);
    expect(await page.getByTestId('error-page').getAttribute('data-status')).toBe('404');
    expect(failures.join('\n')).toBe('');
    expect(pageErrors).toEqual([]);
  }, 120_000); // about 35 s on an idle 2-core machine; the margin is for a busy one
});
