/**
 * Redis work per relayed token, frame and battle with two Arena instances: a private
 * redis-server (nothing else talks to it), two `dist/arena.mjs serve` instances, the relay load
 * (owners on one instance, spectators on the other), then Redis's own `INFO commandstats` and
 * `INFO stats` against Arena's token and frame counters. Counts do not depend on machine load.
 *
 *   npx tsx bench/redis-ops.ts [--duels 20] [--seconds 10]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '../tests/helpers/redis-server.js';
import { runLoad } from './relay/load.js';
import { ensureBuilt, scrapeArena, startArena, startSim, stopAll } from './relay/procs.js';
import { models, pickPrompts, type RelaySettings } from './relay/scenarios.js';

const { values } = parseArgs({ options: { duels: { type: 'string', default: '20' }, seconds: { type: 'string', default: '10' } } });
const duels = Number(values.duels);

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function main(): Promise<void> {
  ensureBuilt();
  const settings = { tokensPerSecond: 30, ttftMs: 100 } as RelaySettings;
  const { prompts } = pickPrompts(models(settings));
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
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
            const stats = await commandStats(redis);
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
    const calls = [...after].map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0)] as const).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);
    const total = calls.reduce((n, [, c]) => n + c, 0);
    const battles = result.battles;
    console.log(`two instances + private Redis: ${duels} duels + ${duels * 5} spectators (spectators on the other instance), ${result.windowS.toFixed(1)} s window`);
    console.log(`relayed ${tokens} tokens in ${frames} frames (${(frames / tokens).toFixed(2)} frames per token), ${battles} battles, ${(result.tokensPerSec.total * result.windowS).toFixed(0)} token deliveries`);
    console.log(`Redis commands: ${total} = ${(total / result.windowS).toFixed(0)}/s; ${(total / tokens).toFixed(2)} per relayed token, ${(total / frames).toFixed(2)} per frame, ${(total / Math.max(1, battles)).toFixed(0)} per battle\n`);
    console.log('| command | calls | per relayed token | per frame |\n|---|---:|---:|---:|');
    for (const [cmd, n] of calls.slice(0, 15)) console.log(`| ${cmd} | ${n} | ${(n / tokens).toFixed(3)} | ${(n / frames).toFixed(3)} |`);
    await a.stop();
    await b.stop();
  } finally {
    redis.disconnect();
    await sim.stop();
    await redisServer.close();
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    setTimeout(() => process.exit(), 500).unref();
  });
