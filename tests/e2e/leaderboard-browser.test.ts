import type { Browser, Page } from 'playwright-core';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import type { VoteChoice } from '../../src/lib/shared/protocol.js';
import { ok, type ArenaClient } from '../helpers/arena.js';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

describe('the live leaderboard in Chromium', () => {
  let arena: ArenaProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const voters: ArenaClient[] = [];

  beforeAll(async () => {
    arena = await startArenaProcess();
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    voters.forEach((socket) => socket.close());
    await browser?.close();
    await arena?.stop();
  });

  /** A voter with its own session, as a separate client would be. */
  async function connectVoter(): Promise<ArenaClient> {
    const socket: ArenaClient = io(arena.url, { transports: ['websocket'], auth: { session: newSessionToken() } });
    voters.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /** Runs one battle to the end of both answers and votes; returns the two models' ids. */
  async function castVote(choice: VoteChoice, prompt = 'Name a prime number.'): Promise<[string, string]> {
    const socket = await connectVoter();
    const ended = new Set<string>();
    const bothEnded = new Promise<void>((resolve) => {
      socket.on('battle:events', (frame) => {
        for (const event of frame.events) if (event.t === 'end') ended.add(event.side);
        if (ended.size === 2) resolve();
      });
    });
    const { battle } = await ok(socket, 'battle:start', { prompt, route: 'arena' });
    await bothEnded;
    const { reveal } = await ok(socket, 'battle:vote', { battleId: battle.id, choice });
    return [reveal.left.model, reveal.right.model];
  }

  const rowModels = () =>
    page.locator('[data-testid="leaderboard-row"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-model')));

  it('shows the empty state before any vote', async () => {
    await page.goto(`${arena.url}/leaderboard`);
    await page.getByTestId('leaderboard-empty').waitFor();
    expect(await page.getByTestId('leaderboard-empty').innerText()).toContain('No votes yet');
    expect(await page.getByTestId('votes-counted').innerText()).toBe('0 votes counted of 0');
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  });

  it('fills in live, without a reload, when votes arrive', async () => {
    const pairs = await Promise.all([castVote('left'), castVote('left')]);

    await page.getByTestId('votes-counted').filter({ hasText: '2 votes counted of 2' }).waitFor({ timeout: 10_000 });
    const voted = new Set(pairs.flat());
    expect(new Set(await rowModels())).toEqual(voted);
    await page.getByTestId('rating-chart').waitFor();
    expect(await page.getByTestId('rating-chart').locator('circle').count()).toBe(voted.size);
    expect(await page.getByTestId('winrate-heatmap').locator('tbody tr').count()).toBe(voted.size);
    expect(await page.getByTestId('leaderboard-empty').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  });

  it('"Without ties" follows the decisive-only board, live too', async () => {
    await page.getByTestId('toggle-no-ties').check();
    await castVote('tie');

    // The tie is given but not counted, and the page keeps following the decisive board.
    await page.getByTestId('votes-counted').filter({ hasText: '2 votes counted of 3' }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('toggle-no-ties').isChecked()).toBe(true);

    await page.getByTestId('toggle-no-ties').uncheck();
    await page.getByTestId('votes-counted').filter({ hasText: '3 votes counted of 3' }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('switches to a category board, which fills in live, with style-controlled ratings and the history chart', async () => {
    const options = () => page.getByTestId('category-select').locator('option').allInnerTexts();
    expect(await options()).not.toContain('Coding (1)');
    const pair = await castVote('right', 'Fix the bug in this Python function: def add(a, b): return a - b');
    await page.getByTestId('category-select').locator('option', { hasText: 'Coding (1)' }).waitFor({ state: 'attached', timeout: 10_000 });
    expect(await options()).toContain('Overall (4)');

    await page.getByTestId('category-select').selectOption('coding');
    await page.getByTestId('votes-counted').filter({ hasText: '1 vote counted of 1' }).waitFor({ timeout: 10_000 });
    expect(new Set(await rowModels())).toEqual(new Set(pair));
    expect(await page.getByTestId('style-rating').count()).toBe(2);
    await page.getByTestId('rating-history').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('history-series').count()).toBe(2);

    await castVote('left', 'Write a JavaScript function that sorts an array of numbers.');
    await page.getByTestId('votes-counted').filter({ hasText: '2 votes counted of 2' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('category-select').selectOption('overall');
    await page.getByTestId('votes-counted').filter({ hasText: '5 votes counted of 5' }).waitFor({ timeout: 10_000 });
    expect(pageErrors).toEqual([]);
  });
});
