import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArena, type Arena } from '../../server/app.js';
import { ConfigSchema } from '../../server/config/schema.js';
import { silentLogger } from '../../server/infra/log.js';
import { simulatedAnswer, startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { launchBrowser } from '../helpers/browser.js';

/**
 * The duel page with a thinking model against a plain one: while either reasons, both columns
 * show the same "Reasoning…" block (no text); after the vote the thinker's reasoning appears on
 * its side only.
 */

const THINKER: SimModelSpec = { name: 'mdl-sage:8b', family: 'sage', tokensPerSecond: 20, ttftMs: 10, maxTokens: 40, capabilities: ['completion', 'thinking'] };
const PLAIN: SimModelSpec = { name: 'mdl-brisk:2b', family: 'brisk', tokensPerSecond: 60, ttftMs: 10, maxTokens: 30 };
const PROMPT = 'Explain in detail how bridges are built and why they stand.';

type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

describe('blind reasoning in Chromium', () => {
  let sim: Simulator;
  let arena: Arena;
  let url: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: [THINKER, PLAIN], preloaded: true });
    const config = ConfigSchema.parse({ dataDir: mkdtempSync(join(tmpdir(), 'arena-reasoning-')), backends: [{ id: 'sim', kind: 'ollama', url: sim.url }] });
    const { handler } = (await import(pathToFileURL(resolve('build/handler.js')).href)) as { handler: UiHandler };
    arena = await createArena(config, { logger: silentLogger, ui: handler });
    url = await arena.listen(0, '127.0.0.1');
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.close();
    await sim?.close();
  });

  it('shows the same neutral block on both sides while one reasons, and the reasoning after the vote', async () => {
    await page.goto(url);
    await page.waitForSelector('[data-ready=true]');
    await page.evaluate(() => {
      const samples: string[] = [];
      (window as unknown as { __samples: string[] }).__samples = samples;
      setInterval(() => {
        const block = (side: string) => document.querySelector(`[data-testid="reasoning-${side}"]`);
        const l = block('left');
        const r = block('right');
        samples.push(JSON.stringify([Boolean(l), Boolean(r), (l?.textContent ?? '').trim(), (r?.textContent ?? '').trim()]));
      }, 10);
    });
    await page.getByTestId('prompt').fill(PROMPT);
    await page.getByTestId('send').click();
    // The vote bar appears with the battle's view: wait for it to exist and open, not merely for no closed one.
    await page.waitForFunction(
      () => {
        const button = document.querySelector<HTMLButtonElement>('[data-testid="vote-left"]');
        return !!button && !button.disabled;
      },
      null,
      { timeout: 20_000 },
    );
    const samples = (await page.evaluate(() => (window as unknown as { __samples: string[] }).__samples)).map(
      (s) => JSON.parse(s) as [boolean, boolean, string, string],
    );
    const shown = samples.filter(([l, r]) => l || r);
    expect(shown.length).toBeGreaterThanOrEqual(3); // the reasoning phase was seen
    for (const [l, r, lt, rt] of samples) {
      expect(l).toBe(r);
      expect(lt).toBe(rt);
    }

    await page.getByTestId('vote-left').click();
    await page.getByTestId('reveal-left').waitFor({ timeout: 10_000 });
    const thinkerSide = (await page.getByTestId('reveal-left').innerText()).includes('sage') ? 'left' : 'right';
    const plainSide = thinkerSide === 'left' ? 'right' : 'left';
    const reasoning = simulatedAnswer(THINKER, [{ role: 'user', content: PROMPT }]).reasoning;
    await page.getByTestId(`reasoning-${thinkerSide}`).locator('summary').click();
    expect(await page.getByTestId(`reasoning-${thinkerSide}`).innerText()).toContain(reasoning.slice(0, 40).trim());
    expect(await page.getByTestId(`reasoning-${plainSide}`).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
