import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

describe('the duel in Chromium', () => {
  let arena: ArenaProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    arena = await startArenaProcess();
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
  });

  const answer = (side: 'left' | 'right') => page.getByTestId(`answer-${side}`).innerText();

  it('types a prompt and watches both answers stream side by side', async () => {
    await page.goto(arena.url);
    await page.getByTestId('prompt').fill('How do rainbows form?');
    await page.getByTestId('send').click();

    // Streaming, not a dump: both columns show partial text that keeps growing.
    await page.waitForFunction(() =>
      ['left', 'right'].every((s) => (document.querySelector(`[data-testid="answer-${s}"]`)?.textContent ?? '').trim().length > 0),
    );
    const early = [await answer('left'), await answer('right')];
    await page.waitForFunction(
      ([l, r]) =>
        (document.querySelector('[data-testid="answer-left"]')?.textContent ?? '').length > l.length &&
        (document.querySelector('[data-testid="answer-right"]')?.textContent ?? '').length > r.length,
      [early[0].length, early[1].length] as const,
    );
    expect(await page.getByTestId('vote-left').isDisabled()).toBe(true);
  });

  it('votes with the keyboard once both finish, then reveals names and timings', async () => {
    await page.getByTestId('vote-left').waitFor();
    await page.waitForFunction(() => !(document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement)?.disabled, null, {
      timeout: 20_000,
    });
    await page.getByTestId('prompt').blur();
    await page.keyboard.press('1');
    await page.getByTestId('reveal-left').waitFor({ timeout: 10_000 });
    const reveal = (await page.getByTestId('reveal-left').innerText()) + (await page.getByTestId('reveal-right').innerText());
    expect(reveal).toMatch(/llama3\.1|qwen3|mistral|gemma2|phi3/);
    expect(reveal).toMatch(/tok\/s|tokens\/s/i);
  });

  it('"Next >" runs the same prompt on a new blind pair', async () => {
    const before = await page.getByTestId('reveal-left').innerText();
    await page.getByTestId('next').click();
    await page.getByTestId('reveal-left').waitFor({ state: 'detached' });
    await page.waitForFunction(() => (document.querySelector('[data-testid="answer-left"]')?.textContent ?? '').trim().length > 0);
    expect(await page.locator('body').innerText()).toContain('How do rainbows form?');
    expect(before.length).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });
});
