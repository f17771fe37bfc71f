import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

/**
 * The system Arena replaces shipped HTML that referenced assets its build never produced.
 * Here every script, style, preload and icon a served page references must answer 200 with the
 * right content type — including the modules its inline bootstrap script imports.
 */
const EXPECTED_TYPE: Record<string, RegExp> = {
  js: /javascript/,
  mjs: /javascript/,
  css: /text\/css/,
  svg: /image\/svg\+xml/,
  png: /image\/png/,
  ico: /image\/(x-icon|vnd\.microsoft\.icon)/,
  json: /json/,
  woff2: /font\/woff2/,
};

export function referencedAssets(html: string): string[] {
  const urls = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) urls.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*\shref="([^"]+)"[^>]*>/g)) {
    if (/rel="(stylesheet|modulepreload|preload|icon|manifest)"/.test(m[0])) urls.add(m[1]);
  }
  for (const script of html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g))
    for (const m of script[1].matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) urls.add(m[1]);
  return [...urls];
}

describe('asset integrity of the built app', () => {
  let arena: ArenaProcess;
  beforeAll(async () => {
    arena = await startArenaProcess();
  });
  afterAll(() => arena.stop());

  for (const path of ['/']) {
    it(`every asset ${path} references is served with the right content type`, async () => {
      const res = await fetch(new URL(path, arena.url));
      expect(res.status).toBe(200);
      const html = await res.text();
      const assets = referencedAssets(html);
      expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
      expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
      for (const asset of assets) {
        const url = new URL(asset, new URL(path, arena.url));
        const r = await fetch(url);
        expect(r.status, `${asset} → ${r.status}`).toBe(200);
        const ext = url.pathname.split('.').pop()!;
        const expected = EXPECTED_TYPE[ext];
        expect(expected, `no expected content type for .${ext}`).toBeDefined();
        expect(r.headers.get('content-type'), asset).toMatch(expected);
        expect((await r.arrayBuffer()).byteLength, `${asset} is empty`).toBeGreaterThan(0);
      }
    });
  }

  /** The budget for the duel page's first JavaScript; highlighting, maths and markdown load later. */
  const INITIAL_JS_BUDGET_GZIP = 60 * 1024;

  it('the duel page loads at most 60 KB of JavaScript (gzip) before anything on demand', async () => {
    const scripts = await initialScripts(arena.url);
    expect(scripts.size, [...scripts.keys()].join(', ')).toBeGreaterThanOrEqual(4);
    let total = 0;
    for (const body of scripts.values()) total += gzipSync(body, { level: 9 }).byteLength;
    console.log(`duel page initial JS: ${scripts.size} files, ${(total / 1024).toFixed(1)} KB gzip`);
    expect(total).toBeLessThanOrEqual(INITIAL_JS_BUDGET_GZIP);
  });
});

/**
 * The JavaScript a page runs before anything on demand: the two entry modules its start-up script
 * imports, the route nodes it names (node_ids), and every module those import statically.
 * Dynamic `import()`s inside them (markdown, highlighting, maths) are not followed.
 */
async function initialScripts(pageUrl: string): Promise<Map<string, string>> {
  const html = await (await fetch(pageUrl)).text();
  const queue = [...html.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => new URL(m[1], pageUrl).href);
  const nodeIds = JSON.parse(html.match(/node_ids:\s*(\[[\d,\s]*\])/)![1]) as number[];
  const bodies = new Map<string, string>();
  while (queue.length > 0) {
    const url = queue.shift()!;
    if (bodies.has(url)) continue;
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    const code = await res.text();
    bodies.set(url, code);
    for (const m of code.matchAll(/\b(?:import|export)\s*(?:[^"'();]*?\bfrom\s*)?["']((?:\.{1,2}\/)[^"']+\.js)["']/g)) queue.push(new URL(m[1], url).href);
    if (/\/entry\/app\.[\w-]+\.js$/.test(url)) {
      for (const id of nodeIds) {
        const node = code.match(new RegExp(`["']((?:\\.{1,2}\\/)+nodes\\/${id}\\.[\\w-]+\\.js)["']`));
        expect(node, `route node ${id} in ${url}`).not.toBeNull();
        queue.push(new URL(node![1], url).href);
      }
    }
  }
  return bodies;
}
