/**
 * Redis work per relayed token, frame and battle with two Arena instances: a private
 * redis-server (nothing else talks to it), two `dist/arena.mjs serve` instances, the relay load
 * (owners on one instance, spectators on the other), then Redis's own `INFO commandstats` and
 * `INFO stats` against Arena's token and frame counters. Counts do not depend on machine load.
 *
 * Then Redis work per vote: the store's recordVote on fresh battles, each followed by the
 * leaderboard's incremental read (votesAfter) on both instances.
 * `--cluster`: the same against a local 3-master Redis Cluster (scripts/redis-cluster.sh on ports
 * 7120-7125; commands summed over the masters).
 *
 *   npx tsx bench/redis-ops.ts [--duels 20] [--seconds 10] [--votes 500] [--cluster]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { openRedisStore } from '../server/store/redis.js';
import { startRedisServer } from '../tests/helpers/redis-server.js';
import { runLoad } from './relay/load.js';
import { ensureBuilt, scrapeArena, startArena, runBench, startSim } from './relay/procs.js';
import { models, pickPrompts, type RelaySettings } from './relay/scenarios.js';

const { values } = parseArgs({
  options: { duels: { type: 'string', default: '20' }, seconds: { type: 'string', default: '10' }, votes: { type: 'string', default: '500' }, cluster: { type: 'boolean', default: false } },
});
const duels = Number(values.duels);

/** Calls per command, summed over the masters (replicas re-run writes: not counted). */
async function commandStats(masters: Redis[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const redis of masters) {
    const info = await redis.info('commandstats');
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  // The bench's own INFO calls are not Arena's work.
  out.delete('info');
  return out;
}

const delta = (before: Map<string, number>, after: Map<string, number>) =>
  [...after].map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0)] as const).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);

/** A private redis-server, or the bench's own local Redis Cluster. */
async function startRedis(): Promise<{ url: string; masters: Redis[]; close(): Promise<void> }> {
  if (!values.cluster) {
    const server = await startRedisServer();
    const redis = new Redis(server.url);
    return { url: server.url, masters: [redis], close: async () => (redis.disconnect(), await server.close()) };
  }
  const env = { ...process.env, REDIS_CLUSTER_BASE_PORT: '7120' };
  const seeds = execFileSync('bash', ['scripts/redis-cluster.sh', 'start'], { env, encoding: 'utf8' }).trim();
  const masters = [7120, 7121, 7122].map((port) => new Redis(port));
  return {
    url: seeds,
    masters,
    close: async () => {
      masters.forEach((m) => m.disconnect());
      execFileSync('bash', ['scripts/redis-cluster.sh', 'stop'], { env });
    },
  };
}

/** Redis commands per vote: recordVote, then each instance's leaderboard reads what is new. */
async function votesBench(url: string, masters: Redis[], votes: number): Promise<void> {
  const prefix = `benchvotes:${randomUUID()}:`;
  const writer = openRedisStore({ url, prefix });
  const readers = [openRedisStore({ url, prefix }), openRedisStore({ url, prefix })];
  const cursors: (string | undefined)[] = [undefined, undefined];
  const battles = Array.from({ length: votes }, (_, i) => ({
    id: `bench-${i}-${randomUUID().slice(0, 8)}`,
    sessionHash: 'bench',
    createdAt: Date.now(),
    mode: 'arena' as const,
    models: { left: 'a', right: 'b' },
    systemPrompt: '',
    turns: [{ prompt: 'p', startedAt: Date.now(), answers: { left: { text: 'x', reasoning: '', status: 'done' as const }, right: { text: 'y', reasoning: '', status: 'done' as const } } }],
    leak: { left: false, right: false },
    watchToken: 't',
  }));
  for (const b of battles) await writer.putBattle(b);
  for (const [i, r] of readers.entries()) cursors[i] = (await r.votesAfter(undefined, 1000)).cursor;
  const before = await commandStats(masters);
  for (const b of battles) {
    await writer.recordVote(b, 'left', Date.now());
    for (const [i, r] of readers.entries()) cursors[i] = (await r.votesAfter(cursors[i], 1000)).cursor;
  }
  const calls = delta(before, await commandStats(masters));
  const total = calls.reduce((n, [, c]) => n + c, 0);
  console.log(`\nvotes: ${votes} recordVote, each followed by votesAfter on 2 instances`);
  console.log(`Redis commands: ${total}; ${(total / votes).toFixed(2)} per vote (recordVote alone: ${calls.filter(([c]) => !/xrange|xread/.test(c)).reduce((n, [, c]) => n + c, 0) / votes} per vote)\n`);
  console.log('| command | per vote |\n|---|---:|');
  for (const [cmd, n] of calls) console.log(`| ${cmd} | ${(n / votes).toFixed(2)} |`);
  for (const s of [writer, ...readers]) await s.close();
}

async function main(): Promise<void> {
  ensureBuilt();
  const settings = { tokensPerSecond: 30, ttftMs: 100 } as RelaySettings;
  const { prompts } = pickPrompts(models(settings));
  const redisServer = await startRedis();
  const sim = await startSim(models(settings));
  try {
    const a = await startArena({ simUrl: sim.url, redisUrl: redisServer.url, redisPrefix: 'bench:', name: 'arena-1' });
    const b = await startArena({ simUrl: sim.url, redisUrl: redisServer.url, redisPrefix: 'bench:', name: 'arena-2' });
    let before = new Map<string, number>();
    let after = new Map<string, number>();
    const scrapes: Promise<unknown>[] = [];
    const metrics: { phase: string; i: number; m: Awaited<ReturnType<typeof scrapeArena>> }[] = [];
    const result = await runLoad({
      servers: [a.url, b.url],
      duels,
      spectators: duels * 5,
      durationMs: Number(values.seconds) * 1000,
      warmupMs: 2000,
      turnsPerBattle: 1,
      prompts,
      onWindow: (phase) => {
        scrapes.push(
          (async () => {
            const stats = await commandStats(redisServer.masters);
            if (phase === 'start') before = stats;
            else after = stats;
          })(),
          ...[a, b].map(async (p, i) => metrics.push({ phase, i, m: await scrapeArena(p) })),
        );
      },
    });
    await Promise.all(scrapes);
    const sum = (phase: string, key: 'tokens' | 'frames') => metrics.filter((x) => x.phase === phase).reduce((n, x) => n + (x.m?.[key] ?? 0), 0);
    const tokens = sum('end', 'tokens') - sum('start', 'tokens');
    const frames = sum('end', 'frames') - sum('start', 'frames');
    const calls = delta(before, after);
    const total = calls.reduce((n, [, c]) => n + c, 0);
    const battles = result.battles;
    console.log(`two instances + ${values.cluster ? 'a 3-master Redis Cluster' : 'private Redis'}: ${duels} duels + ${duels * 5} spectators (spectators on the other instance), ${result.windowS.toFixed(1)} s window`);
    console.log(`relayed ${tokens} tokens in ${frames} frames (${(frames / tokens).toFixed(2)} frames per token), ${battles} battles, ${(result.tokensPerSec.total * result.windowS).toFixed(0)} token deliveries`);
    console.log(`Redis commands: ${total} = ${(total / result.windowS).toFixed(0)}/s; ${(total / tokens).toFixed(2)} per relayed token, ${(total / frames).toFixed(2)} per frame, ${(total / Math.max(1, battles)).toFixed(0)} per battle\n`);
    console.log('| command | calls | per relayed token | per frame |\n|---|---:|---:|---:|');
    for (const [cmd, n] of calls.slice(0, 15)) console.log(`| ${cmd} | ${n} | ${(n / tokens).toFixed(3)} | ${(n / frames).toFixed(3)} |`);
    await a.stop();
    await b.stop();
    await votesBench(redisServer.url, redisServer.masters, Number(values.votes));
  } finally {
    await sim.stop();
    await redisServer.close();
  }
}

runBench(main);
