/**
 * Runs an HTTP fuzz plan (http-plan.ts) against a server over raw TCP and checks what a public
 * server owes every stranger: each complete request gets exactly one well-formed response, no
 * body carries a stack trace or an internal error, nothing answers twice, the process stays up,
 * its memory stays flat, and its process guard counted no fault.
 */
import { rawExchange, type RawExchange } from '../lib/raw-http.js';
import { planRequests, type PlannedRequest } from './http-plan.js';

export interface HttpFuzzOptions {
  host: string;
  port: number;
  requests: number;
  seed: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** The server process is still running. */
  alive(): boolean;
  /** arena_process_faults_total, both kinds summed, from the metrics listener. */
  faults(): Promise<number>;
  /** Full GC in the server, then its memory (samples after warm-up and at the end). */
  collect?(): Promise<{ rss: number; heapUsed: number }>;
  /** Requests before the first memory sample. */
  warmup?: number;
  log?(line: string): void;
}

export interface HttpFinding {
  type: 'responses' | 'malformed' | 'stackTrace' | 'serverError' | 'hang' | 'crash' | 'fault' | 'memory';
  detail: string;
  kind?: string;
  variant?: string;
}

export interface HttpFuzzReport {
  seed: number;
  requestsSent: number;
  durationMs: number;
  byKind: Record<string, number>;
  statuses: Record<string, number>;
  /** Requests the server closed without an answer (allowed only for garbage and truncated input). */
  closedWithoutResponse: number;
  resets: number;
  memory?: { warmRssMb: number; endRssMb: number; rssGrowthPct: number; warmHeapMb: number; endHeapMb: number; heapGrowthPct: number };
  faults: number;
  alive: boolean;
  findings: HttpFinding[];
  pass: boolean;
}

/** What only a crash or a leaked internal error puts in a body. */
const STACK = /\n\s+at [^\n]+\(|\bat [\w.<>]+ \(\/|node:internal|ERR_HTTP_HEADERS_SENT|\/work\/|\/app\/server\/|\.ts:\d+:\d+/;

/** Memory may settle upward once after warm-up; beyond these bounds it is growth. */
const RSS_BOUND_PCT = 30;
const HEAP_BOUND_PCT = 30;

export async function runHttpFuzz(opts: HttpFuzzOptions): Promise<HttpFuzzReport> {
  const started = performance.now();
  const findings: HttpFinding[] = [];
  const byKind: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let sent = 0;
  let closedWithoutResponse = 0;
  let resets = 0;
  // Past the first allocations (HTTP parsers, SvelteKit routes, malloc arenas) before sampling.
  const warmup = opts.warmup ?? Math.max(500, Math.floor(opts.requests / 10));
  let warm: { rss: number; heapUsed: number } | undefined;
  const plan = planRequests(opts.seed, opts.requests);
  const target = { host: opts.host, port: opts.port };

  async function worker(): Promise<void> {
    for (let next = plan.next(); !next.done; next = plan.next()) {
      const request = next.value;
      const index = sent++;
      if (index === warmup && opts.collect) warm = await opts.collect();
      byKind[request.kind] = (byKind[request.kind] ?? 0) + 1;
      const exchange = await rawExchange(target, request.pieces, {
        timeoutMs: request.readTimeoutMs,
        pauseMs: request.pieces.length > 1 ? 40 : 0,
        endAfterWrite: request.endAfterWrite,
        headRequest: request.headRequest,
      });
      check(request, exchange);
      if (index > 0 && index % 2_000 === 0) opts.log?.(`${index} requests, ${findings.length} findings`);
      if (!opts.alive()) {
        findings.push({ type: 'crash', detail: `server exited after request #${index}`, kind: request.kind, variant: request.variant });
        return;
      }
    }
  }

  function check(request: PlannedRequest, exchange: RawExchange): void {
    const where = { kind: request.kind, variant: request.variant };
    if (exchange.error === 'ECONNRESET' || exchange.error === 'EPIPE') resets++;
    for (const response of exchange.responses) {
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      const body = response.body.toString('utf8');
      if (STACK.test(body)) findings.push({ type: 'stackTrace', detail: `${response.status}: ${body.slice(0, 200)}`, ...where });
      if (response.status >= 500 && response.status !== 503) findings.push({ type: 'serverError', detail: `${response.status}: ${body.slice(0, 200)}`, ...where });
    }
    if (exchange.leftover.length > 0)
      findings.push({ type: 'malformed', detail: `unparsable bytes after ${exchange.responses.length} response(s): ${JSON.stringify(exchange.leftover.subarray(0, 120).toString('latin1'))}`, ...where });
    const got = exchange.responses.length;
    if (request.expectResponses === undefined) {
      if (got > 1) findings.push({ type: 'responses', detail: `${got} responses to one malformed request`, ...where });
      if (got === 0) closedWithoutResponse++;
      return;
    }
    // A server may answer before reading a large body and close: the client's next write then
    // fails (EPIPE, or a reset) and the socket is torn down before the answer is read. Counted in
    // `resets`; any other missing answer is a finding.
    if (got !== request.expectResponses) {
      if (got < request.expectResponses && (exchange.error === 'ECONNRESET' || exchange.error === 'EPIPE') && request.kind === 'body') return;
      findings.push({ type: 'responses', detail: `${got} responses, expected ${request.expectResponses}${exchange.error ? ` (${exchange.error})` : ''}`, ...where });
    } else if (!exchange.closedByServer) findings.push({ type: 'hang', detail: 'connection still open after Connection: close', ...where });
  }

  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, () => worker()));
  const alive = opts.alive();
  if (!alive && !findings.some((f) => f.type === 'crash')) findings.push({ type: 'crash', detail: 'server exited' });

  let memory: HttpFuzzReport['memory'];
  if (alive && opts.collect && warm) {
    const end = await opts.collect();
    const pct = (a: number, b: number) => Math.round(((b - a) / a) * 1000) / 10;
    memory = {
      warmRssMb: mb(warm.rss),
      endRssMb: mb(end.rss),
      rssGrowthPct: pct(warm.rss, end.rss),
      warmHeapMb: mb(warm.heapUsed),
      endHeapMb: mb(end.heapUsed),
      heapGrowthPct: pct(warm.heapUsed, end.heapUsed),
    };
    if (memory.rssGrowthPct > RSS_BOUND_PCT || memory.heapGrowthPct > HEAP_BOUND_PCT)
      findings.push({ type: 'memory', detail: `RSS ${memory.warmRssMb} → ${memory.endRssMb} MB, heap ${memory.warmHeapMb} → ${memory.endHeapMb} MB` });
  }
  const faults = alive ? await opts.faults() : -1;
  if (faults !== 0) findings.push({ type: 'fault', detail: `arena_process_faults_total = ${faults}` });

  return {
    seed: opts.seed,
    requestsSent: sent,
    durationMs: Math.round(performance.now() - started),
    byKind,
    statuses,
    closedWithoutResponse,
    resets,
    ...(memory ? { memory } : {}),
    faults,
    alive,
    findings,
    pass: findings.length === 0 && alive && sent >= opts.requests,
  };
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

/** Sum of arena_process_faults_total over its kinds, from a Prometheus text scrape. */
export async function scrapeFaults(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  const values = [...text.matchAll(/^arena_process_faults_total\{kind="\w+"\} (\d+)$/gm)].map((m) => Number(m[1]));
  if (values.length !== 2) throw new Error(`arena_process_faults_total not found in ${metricsUrl}`);
  return values.reduce((a, b) => a + b, 0);
}

export function formatHttpReport(r: HttpFuzzReport): string {
  const lines = [
    `http fuzz seed ${r.seed}: ${r.requestsSent} requests in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  by kind: ${Object.entries(r.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `  statuses: ${Object.entries(r.statuses).map(([k, n]) => `${k} ×${n}`).join(', ')}; closed without an answer (garbage/truncated only): ${r.closedWithoutResponse}; resets: ${r.resets}`,
  ];
  if (r.memory)
    lines.push(
      `  server memory after GC: RSS ${r.memory.warmRssMb} → ${r.memory.endRssMb} MB (${r.memory.rssGrowthPct} %), V8 heap ${r.memory.warmHeapMb} → ${r.memory.endHeapMb} MB (${r.memory.heapGrowthPct} %)`,
    );
  lines.push(`  server alive: ${r.alive ? 'yes' : 'NO'}; arena_process_faults_total: ${r.faults}`);
  if (r.findings.length === 0) lines.push('  findings: none');
  else {
    const groups = new Map<string, { f: HttpFinding; n: number }>();
    for (const f of r.findings) {
      const key = `${f.type} ${f.kind ?? ''}/${f.variant ?? ''} ${f.detail.slice(0, 80)}`;
      const g = groups.get(key);
      if (g) g.n++;
      else groups.set(key, { f, n: 1 });
    }
    lines.push(`  findings (${r.findings.length}):`);
    for (const { f, n } of [...groups.values()].slice(0, 30)) lines.push(`    [${f.type}] ×${n} ${f.kind ?? ''}/${f.variant ?? ''}: ${f.detail}`);
  }
  lines.push(r.pass ? 'PASS' : 'FAIL');
  return lines.join('\n');
}
