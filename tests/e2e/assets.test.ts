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
});
