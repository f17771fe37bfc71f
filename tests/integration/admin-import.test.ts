import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBattleFile } from '../../server/arena/export.js';
import { computeLeaderboard } from '../../server/rating/leaderboard.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import type { Leaderboard } from '../../src/lib/shared/protocol.js';
import { ok, recordFrames, startTestArena, TEST_MODELS, waitFor, type TestArena } from '../helpers/arena.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis-keys.js';

const TOKEN = 'import-token-0123456789abcdef';
const MAX_BYTES = 400_000;
const models = TEST_MODELS.map((m) => m.name);
const winners = ['model_a', 'model_b', 'tie', 'tie (bothbad)'];

/** A FastChat-style dump as people have them: ids on some lines only, metadata on some, a few broken lines. */
function battleFile(count: number, seed: string): { text: string; good: number; bad: number } {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const line: Record<string, unknown> = {
      model_a: models[i % models.length],
      model_b: models[(i + 1 + (i % 2)) % models.length],
      winner: winners[(i * 7) % 4],
      judge: `${seed.slice(0, 8)}_user_${i}`,
      tstamp: 1_700_000_000 + i,
      turn: 1,
      anony: true,
      language: i % 3 ? 'English' : 'German',
    };
    if (i % 2) line.question_id = `${seed}-${i}`;
    if (i % 5 === 0) line.is_code = true;
    lines.push(JSON.stringify(line));
  }
  lines.splice(3, 0, '{"model_a": "x", "model_b": ', JSON.stringify({ model_a: 'a', model_b: 'b', winner: 'draw', judge: 'j', tstamp: 1 }));
  lines.splice(10, 0, JSON.stringify({ model_a: 'a', winner: 'tie', judge: 'j', tstamp: 1 }), '');
  return { text: lines.join('\n') + '\n', good: count, bad: 3 };
}

/** A plain HTTP POST, body in chunks (no Content-Length unless given). */
function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/admin/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 16_384) req.write(body.slice(i, i + 16_384));
    req.end();
  });
}

describe('admin import over HTTP, two instances on Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let sim: Simulator;
  let a: TestArena;
  let b: TestArena;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: TEST_MODELS, preloaded: true });
    const config = { redisUrl: REDIS_URL, redisPrefix: prefix, adminToken: TOKEN, limits: { battlesPerMinute: 100, importMaxBytes: MAX_BYTES } };
    a = await startTestArena({ sim, config });
    b = await startTestArena({ sim, config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    await deleteRedisKeys(prefix);
  });

  it('refuses a missing or wrong token', async () => {
    expect((await post(a.url, '{}\n')).status).toBe(401);
    expect((await post(a.url, '{}\n', { authorization: 'Bearer wrong-token-wrong-token-x' })).status).toBe(401);
  });

  it('imports on one instance, the board on the other picks the votes up at once; the export reproduces the board', async () => {
    // Live votes first: a mixed arena of recorded and imported votes.
    const voter = await a.client();
    const rec = recordFrames(voter);
    for (const choice of ['left', 'right', 'tie'] as const) {
      const { battle } = await ok(voter, 'battle:start', { prompt: `Explain recursion with an example in Python, take ${choice}`, route: 'arena' });
      await rec.settled(battle.id);
      await ok(voter, 'battle:vote', { battleId: battle.id, choice });
    }
    const viewer = await b.client();
    const boards: Leaderboard[] = [];
    viewer.on('leaderboard:update', (board) => boards.push(board));
    const { board: initial } = await ok(viewer, 'leaderboard:subscribe', {});
    // B hears of A's votes through Redis; its board has them already or gets them pushed.
    await waitFor(() => (boards.at(-1) ?? initial).totalVotes === 3, 5_000, 'the live votes on B');

    const file = battleFile(2_000, randomUUID());
    expect(Buffer.byteLength(file.text)).toBeLessThan(MAX_BYTES);
    const started = Date.now();
    const res = await post(a.url, file.text, auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: file.good, alreadyPresent: 0, badLines: file.bad });
    expect(res.body.errorCounts).toEqual({ invalid_json: 1, 'invalid_field:winner': 1, 'invalid_field:model_b': 1 });
    expect(res.body.errors.map((e: { line: number }) => e.line)).toEqual([4, 5, 11]);

    await waitFor(() => boards.at(-1)?.totalVotes === 3 + file.good, 5_000, 'instance B shows the imported votes');
    expect(Date.now() - started).toBeLessThan(5_000);
    const board = boards.at(-1)!;
    const categories = new Map(board.categories.map((c) => [c.id, c.countedVotes]));
    expect(categories.get('coding')).toBeGreaterThanOrEqual(400);
    expect(categories.get('lang:deu')).toBeGreaterThanOrEqual(600);

    // Again: nothing twice (ids derived from content are stable).
    const again = await post(a.url, file.text, auth);
    expect(again.body).toMatchObject({ imported: 0, alreadyPresent: file.good, badLines: file.bad });

    // The export (from the other instance) holds exactly what the board counts, and re-rates to it.
    const exported = await (await fetch(`${b.url}/api/export/battles.jsonl`, { headers: auth })).text();
    const { votes, errors } = parseBattleFile(exported);
    expect(errors).toEqual([]);
    expect(votes).toHaveLength(board.totalVotes);
    const rerated = computeLeaderboard(votes);
    expect(rerated.countedVotes).toBe(board.countedVotes);
    expect(rerated.rows.map((r) => [r.model, r.rating.toFixed(6), r.style?.rating.toFixed(6)])).toEqual(
      board.rows.map((r) => [r.model, r.rating.toFixed(6), r.style?.rating.toFixed(6)]),
    );
    expect(board.rows.some((r) => r.style)).toBe(true);
  });

  it('flags a judge voting one model far beyond chance on every instance, and shows why in the admin view', async () => {
    const viewer = await b.client();
    const boards: Leaderboard[] = [];
    viewer.on('leaderboard:update', (board) => boards.push(board));
    const { board: before } = await ok(viewer, 'leaderboard:subscribe', {});
    // The crowd's weakest well-known model: the test's expected share is its floor, 0.5, and enough
    // other judges voted on it *decisively* for the test to apply. (Counting ties too let the pick
    // fall, about one run in two, on the model the file only ever ties with the last one; its
    // rating sits level with that one's, the three live votes decide which is last. With no
    // decisive votes of others to compare with, the binomial test rightly flags nobody.)
    const target = before.rows.filter((r) => r.wins + r.losses >= 100).at(-1)!.model;
    const opponents = models.filter((m) => m !== target);
    // 25 votes for the target, one a day so the pair cap never bites: only the binomial test can catch them.
    const lines = Array.from({ length: 25 }, (_, i) => {
      const opponent = opponents[i % opponents.length];
      const targetLeft = i % 2 === 0;
      return JSON.stringify({
        model_a: targetLeft ? target : opponent,
        model_b: targetLeft ? opponent : target,
        winner: targetLeft ? 'model_a' : 'model_b',
        judge: 'adversary-session',
        tstamp: 1_710_000_000 + i * 86_400,
      });
    });
    expect((await post(a.url, lines.join('\n'), auth)).body).toMatchObject({ imported: 25, badLines: 0 });

    await waitFor(() => boards.at(-1)?.totalVotes === before.totalVotes + 25, 5_000, 'the adversary votes on B');
    expect(boards.at(-1)!.countedVotes).toBe(before.countedVotes);
    const res = await fetch(`${b.url}/api/admin/hygiene`, { headers: auth });
    expect(res.status).toBe(200);
    const report = await res.json();
    const flag = report.flagged.find((f: { judge: string }) => f.judge === 'adversary-session');
    expect(flag).toMatchObject({ model: target, wins: flag.votes });
    expect(flag.votes).toBeGreaterThanOrEqual(report.rules.flagMinVotes);
    expect(flag.pValue).toBeLessThan(report.rules.flagAlpha);
    expect(report.excluded.flagged_judge).toBe(25);
    expect((await fetch(`${b.url}/api/admin/hygiene`)).status).toBe(401);
  });

  it('refuses a body over the size limit with a typed error: up front when declared, at the limit when streamed', async () => {
    const big = battleFile(3_000, randomUUID()).text;
    expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_BYTES);
    const declared = await post(a.url, big, { ...auth, 'content-length': String(Buffer.byteLength(big)) }).catch((err) => ({ status: -1, body: String(err) }));
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe('too_large');

    const streamed = await post(a.url, big, auth);
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe('too_large');
    // Whole batches before the limit are stored; sending a file within the limit still works.
    expect(streamed.body.report.imported).toBeGreaterThan(0);
    const small = battleFile(10, randomUUID());
    expect((await post(b.url, small.text, auth)).body).toMatchObject({ imported: small.good });
  });
});
