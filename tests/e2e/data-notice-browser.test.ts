import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArena, type Arena } from '../../server/app.js';
import { ConfigSchema } from '../../server/config/schema.js';
import { silentLogger } from '../../server/infra/log.js';
import { DEMO_MODELS, startSimulator, type Simulator } from '../../server/sim/index.js';
import { launchBrowser } from '../helpers/browser.js';

/**
 * One data notice on the duel page: the operator's terms (arena.dataNotice) and, when exports are
 * public, that anyone can download every conversation; acknowledged once per browser.
 */

type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

describe('the data notice in Chromium', () => {
  let sim: Simulator;
  let browser: Browser;
  const arenas: Arena[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: DEMO_MODELS.slice(0, 2), preloaded: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const arena of arenas) await arena.close();
    await sim?.close();
  });

  async function arenaWith(extra: object): Promise<string> {
    const config = ConfigSchema.parse({
      dataDir: mkdtempSync(join(tmpdir(), 'arena-notice-')),
      backends: [{ id: 'sim', kind: 'ollama', url: sim.url }],
      metrics: { port: 0 },
      ...extra,
    });
    const { handler } = (await import(pathToFileURL(resolve('build/handler.js')).href)) as { handler: UiHandler };
    const arena = await createArena(config, { logger: silentLogger, ui: handler });
    arenas.push(arena);
    return arena.listen(0, '127.0.0.1');
  }

  it('states the terms and public export together, and stays away once acknowledged', async () => {
    const url = await arenaWith({ exportAccess: 'public', arena: { dataNotice: 'Research preview: prompts are kept.' } });
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.locator('[data-ready=true]').waitFor();
    const notice = await page.getByTestId('data-notice').innerText();
    expect(notice).toContain('Research preview: prompts are kept.');
    expect(notice).toContain('Public export is on');
    await page.getByTestId('data-notice-ok').click();
    expect(await page.getByTestId('data-notice').count()).toBe(0);
    await page.reload();
    await page.locator('[data-ready=true]').waitFor();
    expect(await page.getByTestId('data-notice').count()).toBe(0);
  });

  it('states public export even when the operator switched the terms off; neither = no notice', async () => {
    const publicUrl = await arenaWith({ exportAccess: 'public', arena: { dataNotice: '' } });
    const page = await (await browser.newContext()).newPage();
    await page.goto(publicUrl);
    await page.locator('[data-ready=true]').waitFor();
    expect(await page.getByTestId('data-notice').innerText()).toContain('Public export is on');

    const silentUrl = await arenaWith({ arena: { dataNotice: '' } });
    const other = await (await browser.newContext()).newPage();
    await other.goto(silentUrl);
    await other.locator('[data-ready=true]').waitFor();
    expect(await other.getByTestId('data-notice').count()).toBe(0);
  });
});
