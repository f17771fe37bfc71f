import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../server/config/schema.js';
import { json } from '../../server/http/routes.js';
import { silentLogger } from '../../server/log.js';
import { createModelOps, type ModelOps } from '../../server/models/ops.js';
import { ModelRegistry } from '../../server/models/registry.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { launchBrowser } from '../helpers/browser.js';

/**
 * The /status page of the built UI, fed by `GET /api/status` from real model ops over simulated
 * backends (served here as app.ts serves it), following a GPU that goes down and comes back.
 */

const LLAMA: SimModelSpec = { name: 'llama3.1:8b', family: 'llama', tokensPerSecond: 300, ttftMs: 10, loadMs: 20, sizeMb: 4900, maxTokens: 20 };
const GPU = `gpu/${LLAMA.name}`;
const SECRET = 'sk-status-page-must-never-show-this';

type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

describe('the status page in Chromium', () => {
  let gpu: Simulator;
  let cpu: Simulator;
  let ops: ModelOps;
  let server: Server;
  let url: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([
      startSimulator({ flavor: 'vllm', models: [LLAMA], apiKey: SECRET }),
      startSimulator({ flavor: 'ollama', models: [LLAMA], preloaded: true }),
    ]);
    const env = { GPU_KEY: SECRET };
    const config = ConfigSchema.parse({
      backends: [
        { id: 'gpu', kind: 'vllm', url: gpu.url, gpu: true, vramMb: 8000, apiKeyEnv: 'GPU_KEY' },
        { id: 'cpu', kind: 'ollama', url: cpu.url },
      ],
      models: [{ id: 'llama', deployments: [{ backend: 'gpu', model: LLAMA.name }, { backend: 'cpu', model: LLAMA.name }] }],
      health: { intervalMs: 200, timeoutMs: 500 },
    });
    const registry = new ModelRegistry(config, silentLogger, { env });
    await registry.refresh();
    ops = createModelOps({ config, registry, logger: silentLogger, env, swap: { preloadOnStart: false, rebalanceMs: 0 } });
    await ops.start();

    const { handler } = (await import(pathToFileURL(resolve('build/handler.js')).href)) as { handler: UiHandler };
    server = createServer((req, res) => {
      if (req.url === '/api/status') return json(res, 200, ops.status());
      handler(req, res, () => json(res, 404, { error: 'not found' }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    await ops?.stop();
    await Promise.all([gpu?.close(), cpu?.close()]);
  });

  const gpuState = () => page.getByTestId(`deployment-state-${GPU}`);
  const waitForText = (testId: string, text: string) =>
    page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.includes(want), [testId, text] as const, {
      timeout: 8_000,
    });

  it('shows every backend and deployment with its state, route and GPU memory', async () => {
    await page.goto(`${url}/status`);
    await page.locator('main[data-ready="true"]').waitFor();
    expect(await gpuState().innerText()).toBe('healthy');
    expect(await page.getByTestId(`deployment-state-cpu/${LLAMA.name}`).innerText()).toBe('healthy');
    expect(await page.getByTestId('route-llama').innerText()).toBe(`${GPU} → cpu/${LLAMA.name}`);
    expect(await page.getByTestId('models-available').innerText()).toBe('1 of 1 models available');
    expect(await page.getByTestId('memory-gpu').innerText()).toContain('of 7.8 GiB in use');
    expect(await page.getByTestId('backend-reachable-gpu').innerText()).toBe('reachable');
  });

  it('follows the GPU going down and coming back, without a reload', async () => {
    gpu.setFault({ kind: 'down' });
    await waitForText(`deployment-state-${GPU}`, 'down');
    expect(await page.getByTestId('route-llama').innerText()).toBe(`cpu/${LLAMA.name}`);
    expect(await page.getByTestId('backend-reachable-gpu').innerText()).toBe('unreachable');
    expect(await page.getByTestId('backend-gpu').innerText()).toContain('ECONNREFUSED');

    gpu.setFault({ kind: 'none' });
    await waitForText(`deployment-state-${GPU}`, 'healthy');
    expect(await page.getByTestId('route-llama').innerText()).toBe(`${GPU} → cpu/${LLAMA.name}`);
  });

  it('never shows a credential, and throws no page errors', async () => {
    expect(await page.content()).not.toContain(SECRET);
    expect(await (await fetch(`${url}/api/status`)).text()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);
  });
});
