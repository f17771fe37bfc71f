import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../server/config/schema.js';
import { createArena, type Arena } from '../../server/app.js';
import { silentLogger } from '../../server/infra/log.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { launchBrowser } from '../helpers/browser.js';

/**
 * The /status page of the built UI on a real Arena over simulated backends, following a GPU that
 * goes down and comes back through live pushes. The public part shows backend health and model
 * availability only; deployments, routes and memory appear only with the admin token.
 */

const LLAMA: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 300, ttftMs: 10, loadMs: 20, sizeMb: 4900, maxTokens: 20 };
const GPU = `gpu/${LLAMA.name}`;
const SECRET = 'sk-status-page-must-never-show-this';
const ADMIN = 'status-page-admin-token-0123';

type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

describe('the status page in Chromium', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let arena: Arena;
  let url: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [LLAMA], apiKey: SECRET }),
      startSimulator({ flavor: 'ollama', models: [LLAMA], preloaded: true }),
    ]);
    process.env.STATUS_TEST_GPU_KEY = SECRET;
    const config = ConfigSchema.parse({
      dataDir: mkdtempSync(join(tmpdir(), 'arena-status-')),
      backends: [
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true, vramMb: 8000, apiKeyEnv: 'STATUS_TEST_GPU_KEY' },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: [{ id: 'llama', deployments: [{ backend: 'gpu', model: LLAMA.name }, { backend: 'cpu', model: LLAMA.name }] }],
      health: { intervalMs: 200, timeoutMs: 500 },
      adminToken: ADMIN,
      metrics: { port: 0 },
    });
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
    await Promise.all([gpu?.close(), cpu?.close()]);
    delete process.env.STATUS_TEST_GPU_KEY;
  });

  const waitForText = (testId: string, text: string) =>
    page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.includes(want), [testId, text] as const, {
      timeout: 8_000,
    });

  it('shows backend health and model availability publicly, nothing per deployment', async () => {
    await page.goto(`${url}/status`);
    await page.locator('main[data-ready="true"]').waitFor();
    expect(await page.getByTestId('models-available').innerText()).toBe('1 of 1 models available');
    expect(await page.getByTestId('backend-reachable-gpu').innerText()).toBe('reachable');
    expect(await page.getByTestId('backend-reachable-cpu').innerText()).toBe('reachable');
    const publicText = await page.locator('main').innerText();
    for (const hidden of [LLAMA.name, 'GiB', 'loaded', 'Rate/min']) expect(publicText).not.toContain(hidden);
    expect(await page.getByTestId(`deployment-state-${GPU}`).count()).toBe(0);
  });

  it('follows the GPU going down and coming back, without a reload', async () => {
    gpu.setFault({ kind: 'down' });
    await waitForText('backend-reachable-gpu', 'unreachable');
    expect(await page.getByTestId('backend-gpu').innerText()).toContain('ECONNREFUSED');
    expect(await page.getByTestId('models-available').innerText()).toBe('1 of 1 models available'); // the CPU copy serves

    gpu.setFault({ kind: 'none' });
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-gpu"]')?.textContent?.includes('tripped') === false, undefined, {
      timeout: 8_000,
    });
    expect(await page.getByTestId('backend-reachable-gpu').innerText()).toBe('reachable');
  });

  it('with the admin token: every deployment with its state, route and GPU memory', async () => {
    await page.locator('details.admin summary').click();
    await page.getByTestId('admin-token').fill('wrong-token-wrong-token');
    await page.getByTestId('admin-open').click();
    await page.getByText('Wrong admin token.').waitFor();
    await page.getByTestId('admin-token').fill(ADMIN);
    await page.getByTestId('admin-open').click();
    await page.getByTestId('admin-view').waitFor();
    await waitForText(`deployment-state-${GPU}`, 'healthy');
    expect(await page.getByTestId(`deployment-state-cpu/${LLAMA.name}`).innerText()).toBe('healthy');
    expect(await page.getByTestId('route-llama').innerText()).toBe(`${GPU} → cpu/${LLAMA.name}`);
    expect(await page.getByTestId('memory-gpu').innerText()).toContain('of 7.8 GiB in use');
  });

  it('never shows a credential, and throws no page errors', async () => {
    expect(await page.content()).not.toContain(SECRET);
    expect(await (await fetch(`${url}/api/status`)).text()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);
  });
});
