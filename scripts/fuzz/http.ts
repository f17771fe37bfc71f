/**
 * HTTP fuzzer: seeded raw HTTP/1.x requests and TCP garbage against the built server, over every
 * route and method, the engine path (every transport, EIO and sid), malformed and oversized
 * headers, odd URLs, bodies up to 1.2 MB, truncated and slow requests (http-plan.ts), with the
 * checks of http-run.ts. Part of `npm run fuzz`.
 *
 *   npx tsx scripts/fuzz/http.ts --requests 20000 --seed 42 [--concurrency 8] [--json report.json]
 *
 * Runs dist/arena.mjs (`npm run build` first) as a child process with a simulator in this process.
 * Exit code 0 = no findings and no error lines in the server's log.
 */
import { writeFileSync } from 'node:fs';
import { FAST_MODELS, startServerProcess, type ServerProcess } from './server.js';
import { parseArgs } from 'node:util';
import { cleanupOnSignal, runIfMain } from '../lib/cli.js';
import { formatHttpReport, runHttpFuzz, scrapeFaults, type HttpFuzzReport } from './http-run.js';

export interface HttpFuzzRun {
  report: HttpFuzzReport;
  /** error/fatal lines the server logged during the run. */
  serverErrors: Record<string, unknown>[];
}

/** Starts the simulator and the built server, fuzzes it, stops both. */
export async function fuzzServerOverHttp(opts: { requests: number; seed: number; concurrency?: number; log?: (line: string) => void }): Promise<HttpFuzzRun> {
  const { startSimulator } = await import('../../server/sim/index.js');
  const sim = await startSimulator({ flavor: 'ollama', models: FAST_MODELS, preloaded: true });
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({ simUrl: sim.url });
    let exited = false;
    server.proc.once('exit', () => (exited = true));
    const { hostname, port } = new URL(server.url);
    const running = server;
    const report = await runHttpFuzz({
      host: hostname,
      port: Number(port),
      requests: opts.requests,
      seed: opts.seed,
      concurrency: opts.concurrency,
      alive: () => !exited,
      faults: () => scrapeFaults(running.metricsUrl),
      collect: () => running.gc(),
      log: opts.log,
    });
    return { report, serverErrors: server.errors };
  } finally {
    await server?.stop();
    await sim.close();
  }
}

async function main() {
  const { values: args } = parseArgs({
    options: { requests: { type: 'string', default: '20000' }, seed: { type: 'string', default: '42' }, concurrency: { type: 'string' }, json: { type: 'string' } },
  });
  const requests = Number(args.requests);
  const seed = Number(args.seed);
  if (!Number.isInteger(requests) || requests <= 0 || requests > 1_000_000) throw new Error('--requests: a positive integer (at most 1,000,000)');
  cleanupOnSignal(async () => {});
  const { report, serverErrors } = await fuzzServerOverHttp({
    requests,
    seed,
    concurrency: args.concurrency ? Number(args.concurrency) : undefined,
    log: (line) => console.error(`[http-fuzz] ${line}`),
  });
  console.log(formatHttpReport(report));
  if (serverErrors.length) {
    console.log(`server logged ${serverErrors.length} error line(s), e.g.:`);
    for (const e of serverErrors.slice(0, 5)) console.log(`  ${JSON.stringify(e).slice(0, 600)}`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ ...report, serverErrors }, null, 2));
  process.exitCode = report.pass && serverErrors.length === 0 ? 0 : 1;
}

runIfMain(import.meta.url, main);
