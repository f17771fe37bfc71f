import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

let arena: ArenaProcess;
let browser: Browser;

beforeAll(async () => {
  arena = await startArenaProcess();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await arena?.stop();
});

/** The demo models include tool-capable ones, so the hybrid router's tools path is on. */
describe('the tools path in Chromium', () => {
  let page: Page;
  const pageErrors: string[] = [];

  const text = (testid: string) => page.getByTestId(testid).innerText();
  const answerLength = (side: 'left' | 'right') =>
    page.evaluate((s) => (document.querySelector(`[data-testid="answer-${s}"]`)?.textContent ?? '').trim().length, side);

  async function ask(prompt: string): Promise<void> {
    await page.getByTestId('prompt').fill(prompt);
    await page.getByTestId('send').click();
  }

  beforeAll(async () => {
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(() => page?.close());

  it('offers the route toggle with the tools path on', async () => {
    await page.goto(arena.url);
    await page.waitForSelector('[data-ready=true]');
    expect(await page.getByTestId('route-auto').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('route-arena').isEnabled()).toBe(true);
    expect(await page.getByTestId('route-tools').isEnabled()).toBe(true);
    expect(await page.getByTestId('route-tools').getAttribute('title')).toMatch(/calculator/);
  });

  it('sends a calculation to the tool-calling model and streams the call, its result and the answer', async () => {
    await ask('What is 17 * 23 + 4?');
    await page.getByTestId('route-banner').waitFor();
    expect(await text('route-banner')).toMatch(/A tool-calling model answers this one/);
    expect(await page.getByTestId('route-banner').getAttribute('data-route')).toBe('tools');
    // Why, in plain words and behind a disclosure: no classifier internals.
    expect(await page.getByTestId('route-why').isVisible()).toBe(false);
    await page.getByTestId('route-banner').locator('summary').click();
    expect(await text('route-why')).not.toMatch(/p\(tools\)|cues|classifier|%/);
    expect((await text('route-why')).length).toBeGreaterThan(10);

    const call = page.locator('[data-testid="tool-call"][data-tool="calculator"]');
    await call.waitFor({ timeout: 20_000 });
    expect(await call.innerText()).toContain('17 * 23 + 4');
    const result = call.getByTestId('tool-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.innerText()).toMatch(/✓[\s\S]*395[\s\S]*\d+ ms/);

    await page.waitForFunction(() => document.querySelector('[data-testid="status-left"]')?.getAttribute('data-status') === 'done', null, {
      timeout: 20_000,
    });
    expect(await text('answer-left')).toContain('395');
    expect((await text('tool-model')).trim().length).toBeGreaterThan(0);

    // One named column, no duel, no vote and no Next: tool answers are not rated.
    expect(await page.getByTestId('column-right').count()).toBe(0);
    expect(await page.getByTestId('vote-left').count()).toBe(0);
    expect(await page.getByTestId('next').count()).toBe(0);
    expect(await page.locator('body').innerText()).toContain('Tool answers are not rated.');
    expect(await page.getByTestId('regenerate').isEnabled()).toBe(true);
  });

  it('"Run as a duel instead" runs the same prompt as a blind duel', async () => {
    const override = page.getByTestId('route-override');
    expect(await override.innerText()).toBe('Run as a duel instead');
    // Sample both columns every few ms, in the page, from before the override is pressed.
    await page.evaluate(() => {
      const lengths: Record<string, number[]> = { left: [], right: [] };
      (window as unknown as { __lengths: typeof lengths }).__lengths = lengths;
      setInterval(() => {
        for (const side of ['left', 'right']) {
          const column = document.querySelector(`[data-testid="column-${side}"]`);
          if (!column || column.querySelector('[data-testid="tool-model"]')) continue; // still the tools answer
          const n = (column.querySelector(`[data-testid="answer-${side}"]`)?.textContent ?? '').trim().length;
          if (n > 0 && lengths[side].at(-1) !== n) lengths[side].push(n);
        }
      }, 10);
    });
    await override.click();
    await page.getByTestId('column-right').waitFor();
    // A duel needs no routing notice.
    await page.getByTestId('route-banner').waitFor({ state: 'detached' });
    expect(await page.getByTestId('tool-model').count()).toBe(0);
    expect(await page.locator('body').innerText()).toContain('What is 17 * 23 + 4?');
    await page.waitForFunction(() => !(document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement)?.disabled, null, {
      timeout: 20_000,
    });
    // Two blind answers streamed side by side: each column was seen at several growing lengths.
    const lengths = await page.evaluate(() => (window as unknown as { __lengths: Record<string, number[]> }).__lengths);
    for (const side of ['left', 'right']) {
      expect(lengths[side].length, `${side} grew in steps`).toBeGreaterThanOrEqual(3);
      expect([...lengths[side]].sort((a, b) => a - b)).toEqual(lengths[side]);
    }
  });

  it('sends a general question to a duel without any routing notice', async () => {
    await page.getByTestId('new-round').click();
    await ask('Write a haiku about the sea');
    await page.getByTestId('status-right').waitFor(); // the new battle's first turn is on the page
    await page.waitForFunction(() => !(document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement)?.disabled, null, {
      timeout: 20_000,
    });
    expect(await answerLength('left')).toBeGreaterThan(0);
    expect(await answerLength('right')).toBeGreaterThan(0);
    expect(await page.getByTestId('tool-call').count()).toBe(0);
    expect(await page.getByTestId('route-banner').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});

const TOOLS_OFF = 'No OpenAI key (OPENAI_API_KEY) and no tool-capable model: questions that need tools go to the arena.';

/**
 * What a server with the tools path off sends, made from the demo server's own messages: its info
 * says tools are off, and a new battle carries the router's "tools, but unavailable" decision.
 */
function asToolsOff(packet: string): string {
  const match = /^(\d+)([[{].*)$/s.exec(packet);
  if (!match) return packet;
  const body = JSON.parse(match[2]!) as unknown;
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (record.tools && 'availableModels' in record) record.tools = { enabled: false, reason: TOOLS_OFF };
    if (record.route && 'turns' in record) {
      record.route = { route: 'tools', layer: 'rules', reason: 'looks like a calculation', confidence: 0.97, toolsUnavailable: TOOLS_OFF };
    }
    Object.values(record).forEach(visit);
  };
  visit(body);
  return match[1] + JSON.stringify(body);
}

describe('the page when the tools path is off', () => {
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const context = await browser.newContext();
    await context.routeWebSocket(/\/socket\.io\//, (ws: WebSocketRoute) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => server.send(message));
      server.onMessage((message) => ws.send(typeof message === 'string' ? asToolsOff(message) : message));
    });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(() => page?.context().close());

  it('the Tools option cannot be chosen, and the operator’s reason stays off the page', async () => {
    await page.goto(arena.url);
    await page.waitForSelector('[data-ready=true]');
    expect(await page.getByTestId('route-tools').isDisabled()).toBe(true);
    expect(await page.getByTestId('route-tools').getAttribute('title')).toBe('Not available on this server');
    expect(await page.content()).not.toContain('OPENAI_API_KEY');
    expect(await page.getByTestId('route-auto').isEnabled()).toBe(true);
  });

  it('runs a tools question that fell back as a plain duel, without telling end users why', async () => {
    await page.getByTestId('prompt').fill('Write a haiku about the sea');
    await page.getByTestId('send').click();
    await page.getByTestId('column-right').waitFor();
    expect(await page.getByTestId('route-banner').count()).toBe(0);
    expect(await page.content()).not.toContain('OPENAI_API_KEY');
    expect(pageErrors).toEqual([]);
  });
});
