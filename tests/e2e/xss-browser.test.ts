import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { launchBrowser } from '../helpers/browser.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

/**
 * Model output is untrusted. The built server streams answers that are XSS payloads (the
 * simulator's `[[echo:<base64>]]` directive makes both models answer exactly a given text), and
 * real Chromium must neither run any of it nor keep any dangerous element or attribute in the DOM:
 * not in the owner's page, not in a spectator's page, not even for a moment while it streams.
 * Every payload would set window.__pwned (a trapped property) and/or reach a local trap server.
 */

const SIDES = ['left', 'right'] as const;
const SAFE_HREF = /^(?:https?:|mailto:)/i;

/** Payload groups, one per turn; `{T}` is the trap server's origin. Each ends with a sentinel. */
const PAYLOADS = {
  html: [
    `<script>window.__pwned='script';fetch('{T}/script')</script>`,
    `<img src=x onerror="window.__pwned='img-onerror';fetch('{T}/img-onerror')">`,
    `<img src="{T}/img-src">`,
    `Inline <img src=x onerror=window.__pwned='inline'> html and <b onmouseover="window.__pwned='b'">bold</b> in a sentence.`,
    `<iframe srcdoc="<script>parent.__pwned='srcdoc';fetch('{T}/srcdoc')</script>"></iframe>`,
    `<iframe src="javascript:parent.__pwned='iframe-js'"></iframe>`,
    `<a href="javascript:window.__pwned='raw-a'">raw link</a> and <a href="{T}/raw-a-ok" onclick="window.__pwned='onclick'">click</a>`,
    `<details open ontoggle="window.__pwned='details'">toggle</details>`,
    `<body onload="window.__pwned='body'"><input autofocus onfocus="window.__pwned='input'">`,
    `<object data="javascript:window.__pwned='object'"></object><embed src="{T}/embed">`,
    `<form action="javascript:window.__pwned='form'"><button formaction="javascript:window.__pwned='formaction'">go</button></form>`,
    `<style>@import '{T}/style.css'; body{background:url('{T}/bg')}</style><link rel=stylesheet href="{T}/link.css">`,
    `<meta http-equiv="refresh" content="0;url=javascript:window.__pwned='meta'"><base href="{T}/base/">`,
    `<p style="background:url('{T}/inline-style')">styled</p>`,
    `<img src=x onerror="window.__pwned='unclosed'"`,
  ],
  markdown: [
    `[md javascript](javascript:window.__pwned='md-js')`,
    `[md mixed case](JaVaScRiPt:window.__pwned='md-case')`,
    `[md entity](&#106;avascript:window.__pwned='md-entity')`,
    `[md spaced]( javascript:window.__pwned='md-space')`,
    `[md data](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0nZGF0YSc8L3NjcmlwdD4=)`,
    `[md vbscript](vbscript:msgbox(1))`,
    `<javascript:window.__pwned='autolink'>`,
    `![md image js](javascript:window.__pwned='md-img')`,
    `![tracking pixel]({T}/md-img.png)`,
    `[reference link][evil]\n\n[evil]: javascript:window.__pwned='ref'`,
    `[titled](https://example.com/ok "a \\" onmouseover=\\"window.__pwned='title'")`,
    '```x" onmouseover="window.__pwned=\'lang\'\ncode <script>window.__pwned=\'code\'</script>\n```',
    `A normal [https link](https://example.com/docs) and <mailto:someone@example.com>.`,
  ],
  // TeX goes to KaTeX (trust off): commands that make links, styles, images or raw HTML stay inert.
  tex: [
    `$\\href{javascript:window.__pwned='tex-href'}{click}$`,
    `$\\url{javascript:window.__pwned='tex-url'}$`,
    `$$\\htmlStyle{background:url({T}/tex-style)}{x}$$`,
    `$\\htmlData{onload=window.__pwned}{x} + \\includegraphics{{T}/tex-img.png}$`,
    `$\\text{<img src=x onerror=window.__pwned='tex-text'>}$ and \\(\\mathrm{<script>window.__pwned='tex-script'</script>}\\)`,
  ],
  svg: [
    `<svg onload="window.__pwned='svg-onload'"></svg>`,
    `<svg><script>window.__pwned='svg-script'</script></svg>`,
    `<svg><a xlink:href="javascript:window.__pwned='svg-a'"><text y="20">svg link</text></a></svg>`,
    `<svg><animate onbegin="window.__pwned='animate'" attributeName="x" dur="1s"/></svg>`,
    `<svg><foreignObject><img src=x onerror="window.__pwned='foreign'"></foreignObject></svg>`,
    `<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'"></style></mglyph></table></mtext></math>`,
    `<noscript><p title="</noscript><img src=x onerror=window.__pwned='noscript'>"></noscript>`,
    `<template><img src=x onerror="window.__pwned='template'"></template>`,
  ],
};

/** Installed before any page script: records every dangerous node or attribute that ever enters an answer or a prompt. */
function tripwires() {
  const w = window as unknown as { __violations: string[]; __pwnedAttempts: string[] };
  w.__violations = [];
  w.__pwnedAttempts = [];
  Object.defineProperty(window, '__pwned', {
    configurable: false,
    get: () => undefined,
    set: (v: unknown) => void w.__pwnedAttempts.push(String(v)),
  });
  const DANGER = new Set(['SCRIPT', 'IFRAME', 'FRAME', 'OBJECT', 'EMBED', 'SVG', 'MATH', 'IMG', 'STYLE', 'LINK', 'META', 'BASE', 'FORM', 'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT', 'DETAILS', 'VIDEO', 'AUDIO', 'SOURCE', 'TEMPLATE', 'NOSCRIPT', 'BODY', 'ANIMATE']);
  const watched = (node: Node | null) => node instanceof Element && !!node.closest('.markdown, .prompt');
  // The one element the app itself adds inside answers, after sanitizing: a code block's Copy button.
  const appOwned = (el: Element) =>
    el.matches('.code-block > .code-head > button.code-copy[type=button]') && el.attributes.length === 3 && el.children.length === 0;
  // KaTeX's own output (it escapes TeX and runs with trust off) lays maths out with MathML, SVG and
  // inline sizes; anything that fetches (url(), @import) is still a violation there.
  const katex = (el: Element) => !!el.closest('.katex, .katex-error');
  const check = (el: Element) => {
    if (DANGER.has(el.tagName.toUpperCase()) && !appOwned(el) && !(katex(el) && ['MATH', 'SVG'].includes(el.tagName.toUpperCase())))
      w.__violations.push(`<${el.tagName.toLowerCase()}>`);
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      if (name === 'style' && katex(el) && !/url\(|@import|expression/i.test(attr.value)) continue;
      if (name.startsWith('on') || ['srcdoc', 'style', 'src', 'formaction', 'action', 'xlink:href', 'data'].includes(name))
        w.__violations.push(`${el.tagName.toLowerCase()}[${name}=${attr.value.slice(0, 60)}]`);
      if (name === 'href' && !/^(?:https?:|mailto:)/i.test(attr.value.trim())) w.__violations.push(`${el.tagName.toLowerCase()}[href=${attr.value.slice(0, 60)}]`);
    }
  };
  const subtree = (el: Element) => [el, ...Array.from(el.querySelectorAll('*'))];
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') {
        if (watched(r.target)) check(r.target as Element);
        continue;
      }
      for (const n of Array.from(r.addedNodes)) {
        if (!(n instanceof Element)) continue;
        // Added inside an answer or a prompt (judged by the parent: the node may be gone again)…
        if (watched(r.target)) subtree(n).forEach(check);
        // …or a whole answer or prompt added at once.
        else for (const box of Array.from(n.querySelectorAll('.markdown, .prompt'))) Array.from(box.querySelectorAll('*')).forEach(check);
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

describe('hostile model output in Chromium', () => {
  let sim: Simulator;
  let arena: ArenaProcess;
  let browser: Browser;
  let trap: Server;
  let trapUrl = '';
  let dir = '';
  const trapHits: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    trap = createServer((req, res) => {
      trapHits.push(req.url ?? '');
      res.end('');
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    // The built server, its models served by a simulator from this process (with the echo directive).
    sim = await startSimulator({
      flavor: 'ollama',
      preloaded: true,
      models: [
        { name: 'xss-north:1b', family: 'north', tokensPerSecond: 300, ttftMs: 5 },
        { name: 'xss-south:1b', family: 'south', tokensPerSecond: 300, ttftMs: 5 },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'arena-xss-'));
    writeFileSync(join(dir, 'arena.config.yaml'), JSON.stringify({ backends: [{ id: 'sim', kind: 'ollama', url: sim.url }] }));
    arena = await startArenaProcess({ ARENA_CONFIG: join(dir, 'arena.config.yaml'), ARENA_DEMO: 'off' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await arena?.stop();
    await sim?.close();
    await new Promise((r) => trap?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function armedPage(name: string): Promise<Page> {
    // The Content-Security-Policy is switched off here: this proves the sanitizer holds on its own
    // (the policy, the second line of defence, is tested in duel-browser.test.ts).
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.addInitScript(tripwires);
    page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
    page.on('dialog', (d) => (dialogs.push(`${name}: ${d.message()}`), void d.dismiss()));
    page.on('request', (req) => {
      if (req.url().startsWith(trapUrl) || /^(javascript|data|vbscript):/i.test(req.url())) requests.push(`${name}: ${req.url()}`);
    });
    return page;
  }

  /** What the tripwires saw, and what the answers' DOM holds now. */
  async function inspect(page: Page) {
    return page.evaluate((safe) => {
      const w = window as unknown as { __violations: string[]; __pwnedAttempts: string[] };
      const inAnswers = Array.from(document.querySelectorAll('.markdown *'));
      const dangerous = Array.from(
        document.querySelectorAll(
          '.markdown :is(script, iframe, frame, object, embed, svg, math, img, style, link, meta, base, form, input, button, textarea, select, details, video, audio, template, noscript):not(.code-head > button.code-copy, .katex math, .katex svg), .prompt *',
        ),
      ).map((e) => e.outerHTML.slice(0, 100));
      const badAttrs = inAnswers.flatMap((e) =>
        Array.from(e.attributes)
          .filter((a) => !(a.name === 'style' && e.closest('.katex, .katex-error') && !/url\(|@import|expression/i.test(a.value)))
          .filter((a) => /^on/i.test(a.name) || ['style', 'src', 'srcdoc', 'action', 'formaction'].includes(a.name) || (a.name === 'href' && !new RegExp(safe, 'i').test(a.value.trim())))
          .map((a) => `${e.tagName.toLowerCase()}[${a.name}=${a.value.slice(0, 60)}]`),
      );
      const links = Array.from(document.querySelectorAll('.markdown a')).map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target') }));
      return { violations: w.__violations, pwned: w.__pwnedAttempts, dangerous, badAttrs, links };
    }, SAFE_HREF.source);
  }

  /** No tripwire fired, nothing dangerous is in the DOM, and nothing reached the trap or opened a dialog. */
  function expectNothingFired(seen: Awaited<ReturnType<typeof inspect>>) {
    expect(seen.pwned).toEqual([]);
    expect(seen.violations).toEqual([]);
    expect(seen.dangerous).toEqual([]);
    expect(seen.badAttrs).toEqual([]);
    expect(trapHits).toEqual([]);
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
  }

  async function bothAnswersContain(page: Page, sentinel: string) {
    await page.waitForFunction(
      (s) => ['left', 'right'].every((side) => (document.querySelector(`[data-testid="answer-${side}"]`)?.textContent ?? '').includes(s)),
      sentinel,
      { timeout: 20_000 },
    );
    for (const side of SIDES) await page.locator(`[data-testid="status-${side}"][data-status=done]`).waitFor({ timeout: 20_000 });
  }

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  let owner: Page;
  let sharePath = '';

  it('streams every payload to the owner without running any of it', async () => {
    owner = await armedPage('owner');
    await owner.goto(arena.url);
    await owner.locator('[data-ready=true]').waitFor();
    // A plain duel, whatever the router would make of the prompt.
    const duel = owner.getByTestId('route-arena');
    if (await duel.count()) await duel.click();

    for (const [group, payloads] of Object.entries(PAYLOADS)) {
      const sentinel = `END-OF-${group.toUpperCase()}`;
      const answer = `${payloads.map((p) => p.replaceAll('{T}', trapUrl)).join('\n\n')}\n\n${sentinel}`;
      // The prompt carries HTML of its own: it must show as text.
      const prompt = `<img src=x onerror="window.__pwned='prompt-${group}'"> <b>not bold</b> [[echo:${b64(answer)}]]`;
      await owner.getByTestId('prompt').fill(prompt);
      await owner.getByTestId('send').click();
      await bothAnswersContain(owner, sentinel);
      // Idle a moment: anything deferred (image errors, autofocus, meta refresh, CSS) has its chance.
      await owner.waitForTimeout(300);
    }
    // Hover and focus over the answers, to give mouse and focus handlers their chance too.
    for (const side of SIDES) await owner.getByTestId(`answer-${side}`).hover();

    const seen = await inspect(owner);
    expectNothingFired(seen);
    // The links that survive are the safe ones, opened apart from the arena.
    expect(seen.links.length).toBeGreaterThan(0);
    for (const link of seen.links) {
      expect(link.href).toMatch(SAFE_HREF);
      expect(link.rel).toContain('noopener');
      expect(link.target).toBe('_blank');
    }
  });

  it('shows the raw HTML as text, and the prompt literally', async () => {
    const left = await owner.getByTestId('answer-left').innerText();
    expect(left).toContain('<svg onload=');
    const page = await owner.locator('body').innerText();
    expect(page).toContain(`<script>window.__pwned='script'`);
    expect(page).toContain(`<img src=x onerror="window.__pwned='prompt-html'"> <b>not bold</b>`);
    expect(await owner.locator('.prompt b, .prompt img').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    sharePath = (await owner.getByTestId('share-link').getAttribute('href')) ?? '';
    expect(sharePath).toContain('/watch/');
  });

  it('keeps a spectator safe too (the same answers, through the share link)', async () => {
    const spectator = await armedPage('spectator');
    await spectator.goto(new URL(sharePath, arena.url).href);
    await bothAnswersContain(spectator, 'END-OF-SVG');
    await spectator.waitForTimeout(300);
    for (const side of SIDES) await spectator.getByTestId(`answer-${side}`).hover();
    const seen = await inspect(spectator);
    expect(await spectator.locator('body').innerText()).toContain(`<script>window.__pwned='script'`);
    expectNothingFired(seen);
    expect(pageErrors).toEqual([]);
  });

  it('would have caught a real injection (control: the tripwires fire)', async () => {
    const control = await armedPage('control');
    await control.goto(arena.url);
    await control.locator('[data-ready=true]').waitFor();
    await control.evaluate((trap) => {
      const box = document.createElement('div');
      box.className = 'markdown';
      document.body.append(box);
      box.innerHTML = `<img src=x onerror="window.__pwned='control';fetch('${trap}/control')">`;
    }, trapUrl);
    await control.waitForFunction(() => (window as unknown as { __pwnedAttempts: string[] }).__pwnedAttempts.length > 0);
    const seen = await inspect(control);
    expect(seen.pwned).toEqual(['control']);
    expect(seen.violations).toContain('<img>');
    expect(seen.dangerous.length).toBe(1);
    expect(seen.badAttrs.some((a) => a.startsWith('img[onerror'))).toBe(true);
    await expect.poll(() => trapHits).toContain('/control');
    expect(requests.some((r) => r.startsWith('control:'))).toBe(true);
  });
});
