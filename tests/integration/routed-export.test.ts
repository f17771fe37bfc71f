import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, startTestArena, type TestArena } from '../helpers/arena.js';

const run = promisify(execFile);

/** Real traffic through the arena, then the operator's export from the command line, reading the same store. */
describe('export of routed prompts with the user overrides', () => {
  let t: TestArena;
  beforeAll(async () => {
    t = await startTestArena({ config: { limits: { battlesPerMinute: 100 } } });
  });
  afterAll(() => t.close());

  it('writes one JSONL row per router decision, with the route the user forced right after', async () => {
    const user = await t.client();
    // The router keeps this in the arena; the user disagrees and asks for tools.
    await ok(user, 'battle:start', { prompt: 'Write a short poem about 7 cats' });
    await ok(user, 'battle:start', { prompt: '/tools Write a short poem about 7 cats' });
    // The router says tools and the user lets it stand.
    await ok(user, 'battle:start', { prompt: 'What is 347 * 29?' });
    // Forcing the route the router had chosen anyway is no override.
    await ok(user, 'battle:start', { prompt: 'convert 5 miles to km' });
    await ok(user, 'battle:start', { prompt: '/tools convert 5 miles to km' });
    // Someone else asking the same thing explicitly does not override this user's row.
    const other = await t.client();
    await ok(user, 'battle:start', { prompt: 'Explain photosynthesis in 3 sentences' });
    await ok(other, 'battle:start', { prompt: '/tools Explain photosynthesis in 3 sentences' });

    const { stdout, stderr } = await run('npx', ['tsx', 'server/cli.ts', 'export', 'routed'], {
      env: { ...process.env, DATA_DIR: t.dataDir, ARENA_CONFIG: '', REDIS_URL: '' },
    });
    expect(stderr).toContain('exported 4 routed prompts');
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(rows).toHaveLength(4);
    expect(rows.map(({ prompt, routed, override }) => ({ prompt, routed, override }))).toEqual([
      { prompt: 'Write a short poem about 7 cats', routed: 'arena', override: 'tools' },
      { prompt: 'What is 347 * 29?', routed: 'tools', override: null },
      { prompt: 'convert 5 miles to km', routed: 'tools', override: null },
      { prompt: 'Explain photosynthesis in 3 sentences', routed: 'arena', override: null },
    ]);
    for (const row of rows) expect(row).toMatchObject({ layer: expect.stringMatching(/^(rules|classifier)$/), confidence: expect.any(Number), at: expect.any(String) });
  }, 30_000);
});
