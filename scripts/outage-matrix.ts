/**
 * The full Redis outage matrix: every client action × outages of 1 s, 5 s and 30 s, on two Arena
 * instances sharing a private redis-server that is killed (SIGKILL) and restarted, with battles
 * streaming through each outage on both instances (scripts/lib/outage-matrix.ts).
 *
 *   npm run outage                       # each cell in its own outage (39 outages, ~15 min)
 *   npm run outage -- --combined         # every action in one outage per duration (3 outages)
 *   npm run outage -- --durations 1,5    # other durations, in seconds
 *   npm run outage -- --cluster          # the same on a private 3-master Redis Cluster (ports
 *                                        # 7150-7152): every node killed, then restarted on its nodes.conf
 *
 * Prints one row per cell and a summary table; exit code 1 when any cell failed, a battle had two
 * writers, or the process guard counted a fault.
 */
import { parseArgs } from 'node:util';
import { installProcessGuard } from '../server/process-guard.js';
import { silentLogger } from '../server/infra/log.js';
import { startSimulator } from '../server/sim/index.js';
import { TEST_MODELS } from '../tests/helpers/arena.js';
import { startRedisClusterServer } from '../tests/helpers/redis-cluster-server.js';
import { startRedisServer } from '../tests/helpers/redis-server.js';
import { ACTIONS, runOutage, type OutageResult } from './lib/outage-matrix.js';

const { values: args } = parseArgs({ options: { combined: { type: 'boolean', default: false }, cluster: { type: 'boolean', default: false }, durations: { type: 'string', default: '1,5,30' } } });
const combined = args.combined;
const durations = args.durations.split(',').map((s) => Number(s) * 1000);
// ~8 s per answer: streams outlast the short outages and finish inside the 30 s one.
const MODELS = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 20, maxTokens: 160 }));

// As in production: faults are logged, counted and (uncaught exceptions) would end the process.
let exits = 0;
installProcessGuard({ logger: silentLogger, onFatal: () => exits++ });

const redis = args.cluster ? await startRedisClusterServer({ basePort: 7150 }) : await startRedisServer();
const sim = await startSimulator({ flavor: 'ollama', models: MODELS, preloaded: true });
const results: OutageResult[] = [];
const started = Date.now();
try {
  for (const outageMs of durations) {
    const groups = combined ? [ACTIONS] : ACTIONS.map((a) => [a] as const);
    for (const actions of groups) {
      const result = await runOutage({ redis, sim, models: MODELS, outageMs, actions });
      results.push(result);
      for (const c of result.cells)
        console.log(
          `${String(outageMs / 1000).padStart(3)} s  ${c.action.padEnd(22)} during: ${c.during.padEnd(12)} typed: ${c.typed ? 'yes' : 'NO '}  after: ${c.recovered ? 'works' : `FAILS (${c.error})`}`,
        );
      for (const p of result.problems) console.log(`      two writers? ${p}`);
    }
  }
} finally {
  await sim.close();
  await redis.close();
}

console.log('\n| outage | cells run | typed answers | work after recovery | streaming battles | battles with two writers | unhandled rejections | process exits |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
let failed = false;
for (const outageMs of durations) {
  const rs = results.filter((r) => r.outageMs === outageMs);
  const cells = rs.flatMap((r) => r.cells);
  const sum = (f: (r: OutageResult) => number) => rs.reduce((n, r) => n + f(r), 0);
  const row = {
    cells: cells.length,
    typed: cells.filter((c) => c.typed).length,
    recovered: cells.filter((c) => c.recovered).length,
    streams: sum((r) => r.streamingBattles),
    twoWriters: sum((r) => r.twoWriterBattles),
    rejections: sum((r) => r.faults.unhandledRejection),
    exits: sum((r) => r.faults.uncaughtException),
  };
  failed ||= row.typed < row.cells || row.recovered < row.cells || row.twoWriters > 0 || row.rejections > 0 || row.exits > 0;
  console.log(`| ${outageMs / 1000} s | ${row.cells} | ${row.typed} | ${row.recovered} | ${row.streams} | ${row.twoWriters} | ${row.rejections} | ${row.exits} |`);
}
console.log(`\n${args.cluster ? 'Redis Cluster (3 masters), ' : ''}${combined ? 'combined' : 'separate'} outages, ${((Date.now() - started) / 60_000).toFixed(1)} min; process exits: ${exits}`);
process.exit(failed || exits > 0 ? 1 : 0);
