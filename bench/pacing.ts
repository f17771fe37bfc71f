/**
 * `npx tsx bench/pacing.ts` — what `arena.pacing: matched` costs. Simulator, Arena and clients
 * run in this one process (CPU is the process's user+system time; the difference between the
 * modes is the pacer's). Two scenarios, each run with pacing off and matched, alternating:
 *
 *   equal   both models at the same speed: the pacer's pure overhead (latency, CPU, frames)
 *   uneven  a fast small model against a slow large one: what the faster side waits for
 *
 *   options: --battles N (per concurrent wave, default 20) --waves N (default 5) --rounds N (default 2)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io as connect } from 'socket.io-client';
import { createArena } from '../server/app.js';
import { newSessionToken } from '../src/lib/server/session.js';
import { ConfigSchema } from '../server/config/schema.js';
import { silentLogger } from '../server/infra/log.js';
import { startSimulator, type SimModelSpec } from '../server/sim/index.js';
import type { ArenaClient } from '../tests/helpers/arena.js';
import { percentilesMs } from './relay/histogram.js';

const { values } = parseArgs({ options: { battles: { type: 'string', default: '20' }, waves: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' } } });
const BATTLES = Number(values.battles);
const WAVES = Number(values.waves);
const ROUNDS = Number(values.rounds);

const SCENARIOS: Record<string, SimModelSpec[]> = {
  equal: [
    { name: 'mdl-aurora:7b', family: 'aurora', tokensPerSecond: 100, ttftMs: 50, maxTokens: 60 },
    { name: 'mdl-borealis:7b', family: 'borealis', tokensPerSecond: 100, ttftMs: 50, maxTokens: 60 },
  ],
  uneven: [
    { name: 'mdl-swift:1b', family: 'swift', tokensPerSecond: 200, ttftMs: 20, maxTokens: 60 },
    { name: 'mdl-slug:70b', family: 'slug', tokensPerSecond: 25, ttftMs: 400, maxTokens: 60 },
  ],
};

interface Sample {
  firstMs: Record<'fast' | 'slow', number>;
  endMs: Record<'fast' | 'slow', number>;
  frames: number;
}

async function run(models: SimModelSpec[], pacing: 'off' | 'matched') {
  const sim = await startSimulator({ flavor: 'ollama', models, preloaded: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-pacing-'));
  const config = ConfigSchema.parse({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    backends: [{ id: 'sim', kind: 'ollama', url: sim.url }],
    arena: { pacing },
    limits: { battlesPerMinute: 10_000, promptsPerMinutePerIp: 100_000, connectionsPerMinutePerIp: 10_000 },
  });
  const arena = await createArena(config, { logger: silentLogger });
  const url = await arena.listen(0, '127.0.0.1');
  const clients: ArenaClient[] = await Promise.all(
    Array.from({ length: BATTLES }, async () => {
      const socket: ArenaClient = connect(url, { transports: ['websocket'], auth: { session: newSessionToken() }, reconnection: false });
      await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
      return socket;
    }),
  );
  const samples: Sample[] = [];
  const cpuBefore = process.cpuUsage();
  for (let wave = 0; wave < WAVES; wave++) samples.push(...(await Promise.all(clients.map((c, i) => battle(c, `Wave ${wave}, question ${i}: why do leaves change colour?`, models)))));
  const cpu = process.cpuUsage(cpuBefore);
  clients.forEach((c) => c.close());
  await arena.close();
  await sim.close();
  rmSync(dataDir, { recursive: true, force: true });
  return { samples, cpuMsPerBattle: (cpu.user + cpu.system) / 1000 / samples.length };
}

async function battle(client: ArenaClient, prompt: string, models: SimModelSpec[]): Promise<Sample> {
  const startedAt = performance.now();
  const at: Partial<Record<string, number>> = {};
  let frames = 0;
  let battleId = '';
  const ended = new Promise<void>((resolve) => {
    const onFrame = (frame: { battleId: string; events: Array<{ t: string; side?: string; text?: string }> }) => {
      if (battleId && frame.battleId !== battleId) return;
      frames++;
      for (const e of frame.events) {
        if (e.t === 'delta' && e.text) at[`first-${e.side}`] ??= performance.now() - startedAt;
        if (e.t === 'end') at[`end-${e.side}`] = performance.now() - startedAt;
      }
      if (at['end-left'] !== undefined && at['end-right'] !== undefined) {
        client.off('battle:events', onFrame);
        resolve();
      }
    };
    client.on('battle:events', onFrame);
  });
  const res = await (client.timeout(30_000) as any).emitWithAck('battle:start', { prompt });
  if (!res.ok) throw new Error(res.error.message);
  battleId = res.battle.id;
  await ended;
  const vote = await (client.timeout(30_000) as any).emitWithAck('battle:vote', { battleId, choice: 'tie' });
  if (!vote.ok) throw new Error(vote.error.message);
  // "fast" is the first model of the scenario (equal speeds: an arbitrary one).
  const fastSide = vote.reveal.left.model === models[0]!.name ? 'left' : 'right';
  const slowSide = fastSide === 'left' ? 'right' : 'left';
  return {
    firstMs: { fast: at[`first-${fastSide}`]!, slow: at[`first-${slowSide}`]! },
    endMs: { fast: at[`end-${fastSide}`]!, slow: at[`end-${slowSide}`]! },
    frames,
  };
}

const pct = (values: number[], p: number) => Math.round(percentilesMs(values, [p])[0]!);

await run(SCENARIOS.equal!, 'off'); // warm-up (JIT, first connections), not reported
console.log(`pacing bench: ${BATTLES} concurrent battles × ${WAVES} waves × ${ROUNDS} rounds per mode; node ${process.version}`);
console.log('| scenario | pacing | battles | first text fast side p50/p95 (ms) | first text slow side p50/p95 | fast side ends p50/p95 | slow side ends p50/p95 | frames/battle | CPU ms/battle |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [name, models] of Object.entries(SCENARIOS)) {
  const results: Record<string, { samples: Sample[]; cpu: number[] }> = { off: { samples: [], cpu: [] }, matched: { samples: [], cpu: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const pacing of ['off', 'matched'] as const) {
      const r = await run(models, pacing);
      results[pacing]!.samples.push(...r.samples);
      results[pacing]!.cpu.push(r.cpuMsPerBattle);
    }
  }
  for (const pacing of ['off', 'matched'] as const) {
    const { samples, cpu } = results[pacing]!;
    const col = (f: (s: Sample) => number) => `${pct(samples.map(f), 50)} / ${pct(samples.map(f), 95)}`;
    const frames = (samples.reduce((n, s) => n + s.frames, 0) / samples.length).toFixed(1);
    const cpuMs = (cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(2);
    console.log(
      `| ${name} | ${pacing} | ${samples.length} | ${col((s) => s.firstMs.fast)} | ${col((s) => s.firstMs.slow)} | ${col((s) => s.endMs.fast)} | ${col((s) => s.endMs.slow)} | ${frames} | ${cpuMs} |`,
    );
  }
}
process.exit(0);
