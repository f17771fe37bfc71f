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
    await page.addInitScript(() => {
      const violations: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
      document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
  });

  it('types a prompt and watches both answers stream side by side', async () => {
    await page.goto(arena.url);
    await page.waitForSelector('[data-ready=true]');
    // Sample both columns every few ms, in the page, from before the prompt is sent.
    await page.evaluate(() => {
      const lengths: Record<string, number[]> = { left: [], right: [] };
      (window as unknown as { __lengths: typeof lengths }).__lengths = lengths;
      setInterval(() => {
        for (const side of ['left', 'right']) {
          const n = (document.querySelector(`[data-testid="answer-${side}"]`)?.textContent ?? '').trim().length;
          if (n > 0 && lengths[side].at(-1) !== n) lengths[side].push(n);
        }
      }, 10);
    });
    await page.getByTestId('prompt').fill('How do rainbows form?');
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('vote-left').isDisabled()).toBe(true);
    await page.waitForFunction(() => !(document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement)?.disabled, null, {
      timeout: 20_000,
    });
    // Streaming, not a dump: each column was seen at several growing lengths.
    const lengths = await page.evaluate(() => (window as unknown as { __lengths: Record<string, number[]> }).__lengths);
    for (const side of ['left', 'right']) {
      expect(lengths[side].length, `${side} grew in steps`).toBeGreaterThanOrEqual(3);
      expect([...lengths[side]].sort((a, b) => a - b)).toEqual(lengths[side]);
    }
  });

  it('votes by keyboard alone from the prompt box, then moves on with Enter', async () => {
    // Focus is still in the (now empty) prompt box where Enter sent the prompt: 1–4 vote from there.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('prompt');
    expect(await page.getByTestId('vote-keys').innerText()).toMatch(/1.*4/);
    expect(await page.getByTestId('announcer').innerText()).toContain('Both ready — vote 1 to 4');
    await page.keyboard.press('1');
    await page.getByTestId('reveal-left').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('prompt').inputValue()).toBe('');
    const reveal = (await page.getByTestId('reveal-left').innerText()) + (await page.getByTestId('reveal-right').innerText());
    expect(reveal).toMatch(/llama3\.1|qwen3|mistral|gemma2|phi3/);
    expect(reveal).toMatch(/tok\/s|tokens\/s/i);
    // The reveal is read out, and the keyboard focus waits on Next.
    expect(await page.getByTestId('announcer').innerText()).toMatch(/^A was .+, B was .+$/);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('next');
  });

  it('Enter on Next runs the same prompt on a new blind pair, and focus returns to the prompt box', async () => {
    const before = await page.getByTestId('reveal-left').innerText();
    await page.keyboard.press('Enter');
    await page.getByTestId('reveal-left').waitFor({ state: 'detached' });
    await page.waitForFunction(() => (document.querySelector('[data-testid="answer-left"]')?.textContent ?? '').trim().length > 0);
    expect(await page.locator('body').innerText()).toContain('How do rainbows form?');
    expect(before.length).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('prompt');
    expect(pageErrors).toEqual([]);
  });

  it('a digit typed into a prompt that is not empty is text, not a vote; N moves on after a vote', async () => {
    await page.waitForFunction(() => !(document.querySelector('[data-testid="vote-left"]') as HTMLButtonElement)?.disabled, null, { timeout: 20_000 });
    await page.getByTestId('prompt').focus();
    await page.keyboard.type('Top 3');
    expect(await page.getByTestId('prompt').inputValue()).toBe('Top 3');
    expect(await page.getByTestId('reveal-left').count()).toBe(0);
    await page.getByTestId('prompt').fill('');
    await page.keyboard.press('3');
    await page.getByTestId('reveal-left').waitFor({ timeout: 10_000 });
    await page.keyboard.press('n');
    await page.getByTestId('reveal-left').waitFor({ state: 'detached' });
    expect(await page.getByTestId('prompt').inputValue()).toBe('');
  });

  it('renders a table, highlighted code with a language chip and Copy, and KaTeX maths, loaded on demand', async () => {
    const answer = [
      'Compare them:',
      '',
      '| Structure | Lookup | Insert at front |',
      '| --- | --- | --- |',
      '| Array | O(1) | O(n) |',
      '| Linked list | O(n) | O(1) |',
      '',
      '```python',
      'def fib(n):',
      '    return n if n < 2 else fib(n - 1) + fib(n - 2)  # a deliberately long line that has to scroll sideways in a narrow column',
      '```',
      '',
      'The ratio tends to $\\varphi = \\frac{1 + \\sqrt{5}}{2}$.',
    ].join('\n');
    const requested: string[] = [];
    page.on('request', (request) => requested.push(new URL(request.url()).pathname));
    await page.getByTestId('new-round').click();
    await page.getByTestId('prompt').fill(`[[echo:${Buffer.from(answer).toString('base64')}]]`);
    await page.keyboard.press('Enter');
    const left = page.getByTestId('answer-left');
    await left.locator('.katex math').waitFor({ state: 'attached', timeout: 20_000 });
    await left.locator('.hljs-keyword').first().waitFor({ state: 'attached' });
    // The table scrolls inside a focusable region; its cells keep whole words.
    const region = left.locator('.table-scroll');
    expect(await region.getAttribute('tabindex')).toBe('0');
    expect(await region.getAttribute('role')).toBe('group');
    expect(await left.locator('td', { hasText: 'Lookup' }).count() + (await left.locator('th', { hasText: 'Lookup' }).count())).toBe(1);
    const lookupHeight = await left.locator('th', { hasText: 'Lookup' }).evaluate((th) => th.getBoundingClientRect().height);
    const rowHeight = await left.locator('th', { hasText: 'Structure' }).evaluate((th) => th.getBoundingClientRect().height);
    expect(lookupHeight).toBe(rowHeight);
    // Code: language chip, Copy button, keyboard-reachable scroll.
    expect(await left.locator('.code-lang').innerText()).toBe('python');
    expect(await left.locator('.code-block pre').getAttribute('tabindex')).toBe('0');
    expect(await left.locator('.hljs-keyword').first().innerText()).toBe('def');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await left.locator('.code-copy').click();
    // The clipboard write is asynchronous: the label changes once it has gone through.
    await left.locator('.code-copy', { hasText: 'Copied' }).waitFor({ timeout: 5_000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('def fib(n):');
    // The renderers came as separate chunks, after the page; KaTeX's fonts from this origin.
    expect(requested.some((path) => /\.woff2$/.test(path))).toBe(true);
    expect(requested.every((path) => !path.startsWith('http'))).toBe(true);
  });

  it('after failed answers only "Both are bad" stays open, Regenerate is the main action, and nobody is "Winner"', async () => {
    const demo = arena.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('DEMO MODE'));
    const fault = (body: object) =>
      fetch(`${demo!.url}/_sim/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await fault({ fault: { kind: 'error_after', tokens: 2 } })).status).toBe(200);
    try {
      const failing = await (await browser.newContext()).newPage();
      failing.on('pageerror', (err) => pageErrors.push(err.message));
      await failing.goto(arena.url);
      await failing.waitForSelector('[data-ready=true]');
      await failing.getByTestId('prompt').fill('Why is the sky blue?');
      await failing.getByTestId('send').click();
      for (const side of ['left', 'right']) await failing.locator(`[data-testid="status-${side}"][data-status=error]`).waitFor({ timeout: 20_000 });
      await failing.getByTestId('failed-banner').waitFor();
      await failing.waitForFunction(() => !(document.querySelector('[data-testid="vote-bothbad"]') as HTMLButtonElement).disabled);
      for (const choice of ['left', 'right', 'tie']) expect(await failing.getByTestId(`vote-${choice}`).isDisabled(), choice).toBe(true);
      expect(await failing.getByTestId('regenerate').getAttribute('class')).toMatch(/\bprimary\b/);
      await failing.keyboard.press('Escape');
      await failing.keyboard.press('1'); // the shortcut of a refused choice sends nothing (a refusal would show a toast)
      await failing.waitForTimeout(300);
      expect(await failing.getByTestId('toast').count()).toBe(0);
      expect(await failing.getByTestId('reveal-left').count()).toBe(0);
      await failing.getByTestId('vote-bothbad').click();
      await failing.getByTestId('reveal-left').waitFor({ timeout: 10_000 });
      const reveals = (await failing.getByTestId('reveal-left').innerText()) + (await failing.getByTestId('reveal-right').innerText());
      expect(reveals).toContain('Both bad');
      expect(reveals).not.toContain('Winner');
    } finally {
      await fault({ fault: { kind: 'none' } });
    }
    expect(pageErrors).toEqual([]);
  });

  it('runs the whole duel under a strict Content-Security-Policy without one violation', async () => {
    const res = await fetch(arena.url);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self' 'nonce-[^']+'/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    // Everything above (page, socket, lazy markdown renderer, votes, reveal) ran under it.
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
    expect(await page.getByTestId('answer-left').innerText()).not.toBe('');
    // Were markup to slip past the sanitizer, an inline script still would not run.
    const ran = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      await new Promise((r) => setTimeout(r, 50));
      return (window as unknown as { __injected?: boolean }).__injected ?? false;
    });
    expect(ran).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual(['script-src-elem inline']);
  });
});
