import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { ok, recordFrames, type ArenaClient } from '../helpers/arena.js';
import { startArenaProcess, type ArenaProcess } from '../helpers/process.js';

const GOOD_KEY = 'sk-good-5ecret-0123456789abcdef';
const WRONG_KEY = 'sk-wrong-5ecret-0123456789abcdef';
const OPENAI_KEY = 'sk-openai-5ecret-0123456789abcdef';
const ADMIN = 'admin-5ecret-0123456789abcdef';
const SECRETS = [GOOD_KEY, WRONG_KEY, OPENAI_KEY, ADMIN, '5ecret'];

describe('secrets never reach logs, errors, exports or frames', () => {
  let sim: Simulator;
  let arena: ArenaProcess;
  const seen: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({
      flavor: 'vllm',
      apiKey: GOOD_KEY,
      models: [
        { name: 'keyed-a', tokensPerSecond: 300 },
        { name: 'keyed-b', tokensPerSecond: 300 },
      ],
    });
    const file = join(mkdtempSync(join(tmpdir(), 'arena-secrets-')), 'arena.yaml');
    writeFileSync(
      file,
      [
        'backends:',
        `  - { id: gpu, kind: vllm, url: "${sim.url}", apiKeyEnv: GPU_KEY }`,
        `  - { id: broken, kind: vllm, url: "${sim.url}", apiKeyEnv: BROKEN_KEY }`,
        'exportAccess: admin',
        '',
      ].join('\n'),
    );
    arena = await startArenaProcess({
      ARENA_CONFIG: file,
      ARENA_DEMO: 'off',
      GPU_KEY: GOOD_KEY,
      BROKEN_KEY: WRONG_KEY,
      OPENAI_API_KEY: OPENAI_KEY,
      ARENA_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    await arena?.stop();
    await sim?.close();
  });

  it('through a battle, a vote, every endpoint, an auth failure and the logs', async () => {
    const client: ArenaClient = connect(arena.url, { transports: ['websocket'], auth: { session: newSessionToken() }, reconnection: false });
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'Say something.', route: 'arena' });
    await rec.settled(battle.id);
    const vote = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
    const state = await ok(client, 'session:state', {});
    seen.push(JSON.stringify([rec.raw, battle, vote, state]));
    client.close();

    const auth = { authorization: `Bearer ${ADMIN}` };
    for (const [path, headers] of [
      ['/api/models', {}],
      ['/readyz', {}],
      ['/api/admin/config', auth],
      ['/api/export/battles.jsonl', auth],
      ['/api/export/preferences.jsonl', auth],
    ] as const) {
      const res = await fetch(`${arena.url}${path}`, { headers });
      expect(res.status, path).toBe(200);
      seen.push(await res.text());
    }
    const metrics = await fetch(arena.metricsUrl);
    expect(metrics.status).toBe(200);
    seen.push(await metrics.text());
    // The misconfigured backend's 401 is reported, without its key.
    const models = JSON.parse(seen.find((s) => s.includes('"backends"'))!);
    expect(JSON.stringify(models.backends)).toMatch(/401|auth/i);

    seen.push(JSON.stringify(arena.logs), arena.stderr());
    const everything = seen.join('\n');
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });
});
