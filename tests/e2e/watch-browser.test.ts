import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

const DEMO_MODEL_NAMES = /llama3\.1|qwen3|mistral|gemma2|phi3/i;
const SIDES = ['left', 'right'] as const;

describe('spectating a duel in Chromium', () => {
  let arena: ArenaProcess;
  let browser: Browser;
  let owner: Page;
  let spectator: Page;
  const pageErrors: string[] = [];

  /** A separate browser context per page: its own cookie, so its own arena session. */
  async function newSessionPage(name: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
    return page;
  }

  beforeAll(async () => {
    arena = await startArenaProcess();
    // Demo answers can end within a second, before the spectator's page has loaded: slow the
    // demo models down so the spectator joins mid-stream however busy the machine is.
    const demo = arena.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('DEMO MODE'));
    const slowed = await fetch(`${demo!.url}/_sim/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: { kind: 'slow', factor: 6 } }),
    });
    expect(slowed.status).toBe(200);
    browser = await launchBrowser();
    owner = await newSessionPage('owner');
    spectator = await newSessionPage('spectator');
    // Sample the spectator's left answer in the page itself, so growth is observed however slowly
    // the test reads.
    await spectator.addInitScript(() => {
      const lengths: number[] = [];
      (window as unknown as { answerLengths: number[] }).answerLengths = lengths;
      setInterval(() => {
        const length = document.querySelector('[data-testid="answer-left"]')?.textContent?.length ?? 0;
        if (length > 0 && length !== lengths.at(-1)) lengths.push(length);
      }, 20);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
  });

  const text = (page: Page, testid: string) => page.getByTestId(testid).innerText();
  const spectatorText = () => spectator.locator('body').innerText();

  async function waitForBothAnswersSettled(page: Page): Promise<void> {
    for (const side of SIDES) {
      await page.locator(`[data-testid="status-${side}"]:is([data-status=done], [data-status=stopped], [data-status=interrupted], [data-status=error])`).waitFor({
        timeout: 40_000,
      });
    }
  }

  it('follows the owner’s duel live from the share link, blind', async () => {
    await owner.goto(arena.url);
    await owner.locator('[data-ready=true]').waitFor();
    await owner.getByTestId('prompt').fill('How do rainbows form?');
    await owner.getByTestId('send').click();

    const shareUrl = await owner.getByTestId('share-link').getAttribute('href');
    expect(shareUrl).toMatch(/\/watch\/[\w-]+\?t=[\w-]+$/);
    await spectator.goto(shareUrl!);
    await spectator.getByTestId('spectator-badge').waitFor();
    expect(await spectatorText()).not.toMatch(DEMO_MODEL_NAMES);

    await waitForBothAnswersSettled(owner);
    await waitForBothAnswersSettled(spectator);

    // Partial answers were on screen and grew: the spectator saw the stream, not a final dump.
    const lengths = await spectator.evaluate(() => (window as unknown as { answerLengths: number[] }).answerLengths);
    expect(lengths.length).toBeGreaterThanOrEqual(2);
    expect(lengths[1]).toBeGreaterThan(lengths[0]);

    for (const side of SIDES) expect(await text(spectator, `answer-${side}`)).toBe(await text(owner, `answer-${side}`));
    expect(await spectatorText()).toContain('How do rainbows form?');
    await spectator.waitForFunction(() => document.querySelector('[data-testid="viewer-count"]')?.textContent === '1 watching');
    expect(await spectatorText()).not.toMatch(DEMO_MODEL_NAMES);
    // Read-only: none of the owner's controls.
    for (const testid of ['prompt', 'send', 'stop', 'regenerate', 'next', 'share-link', 'vote-left']) {
      expect(await spectator.getByTestId(testid).count()).toBe(0);
    }
  });

  it('casts a crowd vote and sees the crowd tally, still blind', async () => {
    await spectator.waitForFunction(() => !(document.querySelector('[data-testid="crowd-left"]') as HTMLButtonElement)?.disabled);
    await spectator.getByTestId('crowd-left').click();
    await spectator.getByTestId('crowd-tally').waitFor();
    const tally = await text(spectator, 'crowd-tally');
    expect(tally).toContain('Crowd votes (not counted in the ratings)');
    expect(tally).toMatch(/A is better\s*1\b/);
    expect(await spectatorText()).not.toMatch(DEMO_MODEL_NAMES);
  });

  it('reveals the names and the owner’s verdict once the owner votes', async () => {
    await owner.getByTestId('vote-left').click();
    await owner.getByTestId('reveal-left').waitFor();
    for (const side of SIDES) {
      await spectator.getByTestId(`reveal-${side}`).waitFor({ timeout: 10_000 });
      const reveal = await text(spectator, `reveal-${side}`);
      expect(reveal).toMatch(DEMO_MODEL_NAMES);
      expect(reveal).toBe(await text(owner, `reveal-${side}`));
    }
    expect(await text(spectator, 'owner-verdict')).toBe('The owner voted: A is better');
    expect(pageErrors).toEqual([]);
  });

  it('says so when the watch link is not valid', async () => {
    const stranger = await newSessionPage('stranger');
    for (const path of ['/watch/nope?t=wrong', '/watch/nope']) {
      await stranger.goto(new URL(path, arena.url).href);
      await stranger.getByTestId('watch-error').waitFor();
      expect(await text(stranger, 'watch-error')).toContain('This watch link is not valid or has expired');
      expect(await stranger.getByTestId('spectator-badge').count()).toBe(0);
    }
    expect(pageErrors).toEqual([]);
  });
});
