import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { ACTIONS, runOutage, type OutageResult } from '../../scripts/lib/outage-matrix.js';
import { TEST_MODELS } from '../helpers/arena.js';
import { recordProcessFaults, type FaultRecorder } from '../helpers/faults.js';
import { startRedisClusterServer } from '../helpers/redis-cluster-server.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

// ~8 s per answer: the streaming battles outlast the outages below (the full matrix, with 30 s,
// is `npm run outage`).
const MODELS = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 20, maxTokens: 160 }));

// Once on one Redis, once on a private 3-master Redis Cluster (ports 7140-7142), where "Redis down"
// stops every node and "back" restarts them on their nodes.conf so the cluster re-forms (the full
// matrices: `npm run outage`, `npm run outage -- --cluster`).
const SETUPS = [
  { title: 'Redis outage matrix (two instances)', down: '', start: () => startRedisServer() },
  { title: 'Redis Cluster outage matrix (two instances, 3 masters)', down: ', every node down', start: () => startRedisClusterServer({ basePort: 7140 }) },
];

for (const { title, down, start } of SETUPS) {
  describe(`${title}: every client action in one combined outage of 1 s, then 5 s`, () => {
    let redis: RedisServer;
    let sim: Simulator;
    let faults: FaultRecorder;
    beforeAll(async () => {
      faults = recordProcessFaults();
      redis = await start();
      sim = await startSimulator({ flavor: 'ollama', models: MODELS, preloaded: true });
    }, 30_000);
    afterAll(async () => {
      await sim?.close();
      await redis?.close();
      faults?.stop();
    });

    for (const outageMs of [1_000, 5_000]) {
      it(`${outageMs / 1000} s${down}: typed answers, everything works after, no battle with two writers, no process fault`, async () => {
        expectSurvived(await runOutage({ redis, sim, models: MODELS, outageMs, actions: ACTIONS }), faults);
      }, 90_000);
    }
  });
}

/** Every action answered in type and working after, three battles streamed, one writer each, no fault. */
function expectSurvived(result: OutageResult, faults: FaultRecorder): void {
  expect(result.cells).toHaveLength(ACTIONS.length);
  expect(result.cells.filter((c) => !c.typed || !c.recovered)).toEqual([]);
  expect(result.streamingBattles).toBe(3);
  expect(result.problems).toEqual([]);
  expect(result.twoWriterBattles).toBe(0);
  expect(result.faults).toEqual({ unhandledRejection: 0, uncaughtException: 0 });
  expect(faults.messages).toEqual([]);
}
