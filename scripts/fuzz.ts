/**
 * Protocol fuzzer: a seeded stream of hostile Socket.IO traffic against a running Arena, over many
 * connections, then the checks that matter for a public server:
 *
 *   - the server process stays alive (never exits, keeps answering /healthz);
 *   - its RSS stays flat (sampled after a warm-up and again after a pause; bound in `rssBoundPct`);
 *   - every ack that comes back is a well-formed `{ok:true,…}` or `{ok:false,error:{code,message}}`
 *     with a known code: never a stack trace, never a path, never an `internal` error;
 *   - every request that carries an ack function is answered (unless its connection was closed);
 *   - afterwards a well-formed duel still works end to end (start → stream → vote → spectator).
 *
 *   npx tsx scripts/fuzz.ts --events 100000 --seed 42 [--url http://127.0.0.1:3000]
 *     [--connections 24] [--exclude kind,handshake:variant] [--json report.json]
 *
 * Without --url it runs the built server (dist/arena.mjs, `npm run build` first) as a child process,
 * backed by a fast simulator in this process, and measures that process's RSS from /proc.
 * Loops are bounded (the event count) and seeded: the same seed generates the same event sequence
 * (ids learnt from the server's answers are substituted at send time, and are recorded in findings).
 * Only 127.0.0.1 traffic. Exit code 0 = no findings.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { preview } from './fuzz/checks.js';
import { formatReport } from './fuzz/report.js';
import { runFuzz } from './fuzz/run.js';
import { FAST_MODELS, procRss, startServerProcess, type ServerProcess } from './fuzz/server.js';
import { cleanupOnSignal, runIfMain } from './lib/cli.js';

// The pieces live in scripts/fuzz/: generators.ts (hostile values), plan.ts (the seeded plan),
// traffic.ts (sending), checks.ts (acks, the duel afterwards), run.ts, report.ts, server.ts.
export { checkAck, connected, wellFormedDuel, type Finding } from './fuzz/checks.js';
export { planEvent, type FuzzKind } from './fuzz/plan.js';
export { formatReport } from './fuzz/report.js';
export { runFuzz, type FuzzOptions, type FuzzReport } from './fuzz/run.js';
export { FAST_MODELS, procFds, procRss, startServerProcess, type ServerProcess } from './fuzz/server.js';

const OPTIONS = {
  events: { type: 'string', default: '100000' },
  seed: { type: 'string', default: '42' },
  connections: { type: 'string', default: '24' },
  exclude: { type: 'string' },
  url: { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const USAGE = `npx tsx scripts/fuzz.ts [--events 100000] [--seed 42] [--connections 24] [--exclude kind,handshake:variant]
  [--url http://127.0.0.1:3000] [--json report.json]
Without --url: runs dist/arena.mjs (npm run build first) against a fast simulator. Exit 0 = no findings.`;

async function main() {
  const { values: args } = parseArgs({ options: OPTIONS });
  if (args.help) return void console.log(USAGE);
  const events = Number(args.events);
  const seed = Number(args.seed);
  const connections = Number(args.connections);
  const exclude = args.exclude ? args.exclude.split(',').map((s) => s.trim()) : [];
  if (!Number.isInteger(events) || events <= 0 || events > 10_000_000) throw new Error('--events: a positive integer (at most 10,000,000)');
  const log = (line: string) => console.error(`[fuzz] ${line}`);

  let server: ServerProcess | undefined;
  let sim: { close(): Promise<void> } | undefined;
  let url = args.url;
  if (url && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(url)) throw new Error('--url: only a local server (127.0.0.1) may be fuzzed');
  if (!url) {
    const { startSimulator } = await import('../server/sim/index.js');
    const simulator = await startSimulator({ flavor: 'ollama', models: FAST_MODELS, preloaded: true });
    sim = simulator;
    // Every connection comes from 127.0.0.1: per-address limits are raised so they do not hide
    // the rest; per-session and per-socket limits keep their defaults.
    server = await startServerProcess({
      simUrl: simulator.url,
      config: { limits: { connectionsPerMinutePerIp: 1_000_000, promptsPerMinutePerIp: 1_000_000 } },
    });
    url = server.url;
    log(`started dist/arena.mjs (pid ${server.proc.pid}) at ${url}`);
  }
  const pid = server?.proc.pid;
  let exited: string | undefined;
  server?.proc.once('exit', (code, signal) => (exited = `exit code ${code}, signal ${signal}`));

  // Whatever happens, the server and the simulator this run started stop with it.
  const cleanup = async () => {
    await server?.stop();
    await sim?.close();
  };
  cleanupOnSignal(cleanup);
  try {
    const report = await runFuzz({
      url,
      events,
      seed,
      connections,
      exclude,
      log,
      ...(pid ? { rss: () => procRss(pid), collect: () => server!.gc(), alive: () => exited === undefined } : {}),
    });
    console.log(formatReport(report));
    if (server) {
      if (exited) console.log(`server died (${exited}); its stderr:\n${server.stderr().slice(-4_000)}`);
      if (server.errors.length) {
        console.log(`server logged ${server.errors.length} error line(s), e.g.:`);
        for (const e of server.errors.slice(0, 5)) console.log(`  ${preview(e, 600)}`);
      }
    }
    if (args.json) writeFileSync(args.json, JSON.stringify({ ...report, serverErrors: server?.errors ?? [] }, null, 2));
    process.exitCode = report.pass && !server?.errors.length ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta.url, main);
