/** Markdown tables for the relay scenarios. */
import type { LatencySummary } from './histogram.js';
import { fmt, type CapacityResult, type ClusterResult, type RelaySettings, type Row, type SingleResult, type SlowResult, type SlowTrace } from './scenarios.js';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '–');
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}%` : '–');
const mb = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const sumCpu = (row: Row) => row.servers.reduce((sum, u) => sum + u.cpuPct, 0);
/** Server CPU time (every server process) per token any client received, in µs. */
export const cpuUsPerToken = (row: Row) => (sumCpu(row) / 100) * 1e6 / row.load.tokensPerSec.total;
const cpuCell = (row: Row) => (row.servers.length > 1 ? `${row.servers.map((u) => pct(u.cpuPct)).join(' + ')}` : pct(sumCpu(row)));
const rssCell = (row: Row) => row.servers.map((u) => `${mb(u.rssAvgMb)} / ${mb(u.rssMaxMb)}`).join(' + ');
const errorsCell = (row: Row) => {
  const e = row.load.errors;
  const parts = Object.entries(e).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : '0';
};

function table(head: string[], rows: string[][], align?: string[]): string {
  return [`| ${head.join(' | ')} |`, `|${(align ?? head.map((_, i) => (i === 0 ? '---' : '---:'))).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function settingsLine(s: RelaySettings, meanTokens: number): string {
  return (
    `Each duel: two simulated models at ${s.tokensPerSecond} tokens/s, TTFT ${s.ttftMs} ms, ${meanTokens.toFixed(0)} tokens per answer on average ` +
    `(prompts chosen for 40–60); a new battle (\`battle:next\`) as soon as both answers end, spectators follow with \`watch:join\`. ` +
    `Warm-up ${s.warmupS} s, then ${s.durationS} s measured. Delay = client receive time − the simulator's emission stamp, for every token ` +
    `(each stamp inside a coalesced delta counts). "server loop lag" is Arena's own event-loop delay over the window (its /metrics); ` +
    `"other procs CPU" is CPU used on the machine by processes outside the benchmark during the window.`
  );
}

const ROW_HEAD = [
  'server',
  'duels',
  'spectators',
  'delay p50 (ms)',
  'p99',
  'max',
  'spectator p99',
  'TTFT overhead p50 / p99',
  'tok/s to owners',
  'tok/s to spectators',
  'server CPU (1 core = 100%)',
  'server CPU µs per delivered token',
  'server RSS avg / max (MB)',
  'server loop lag p99 (ms)',
  'frames per token',
  'idle conn (KiB each)',
  'loadgen CPU / loop p99 (ms)',
  'sim CPU',
  'other procs CPU',
  'errors',
] as const;
type Column = (typeof ROW_HEAD)[number];
type Cells = Partial<Record<Column, string>>;

function rowRecord(row: Row): Record<Column, string> {
  const l = row.load;
  const arena = row.arena ?? [];
  return {
    server: row.label,
    duels: int(row.duels),
    spectators: int(row.spectators),
    'delay p50 (ms)': fmt(l.delay.all.p50),
    p99: fmt(l.delay.all.p99),
    max: fmt(l.delay.all.max),
    'spectator p99': fmt(l.delay.spectators.p99),
    'TTFT overhead p50 / p99': `${fmt(l.ttftOverhead.p50)} / ${fmt(l.ttftOverhead.p99)}`,
    'tok/s to owners': int(l.tokensPerSec.owners),
    'tok/s to spectators': int(l.tokensPerSec.spectators),
    'server CPU (1 core = 100%)': cpuCell(row),
    'server CPU µs per delivered token': fmt(cpuUsPerToken(row), 1),
    'server RSS avg / max (MB)': rssCell(row),
    'server loop lag p99 (ms)': arena.length ? arena.map((m) => fmt(m.loopP99Ms, 1)).join(' + ') : '',
    'frames per token': arena.length ? arena.map((m) => m.framesPerToken.toFixed(2)).join(' + ') : row.label === 'baseline' ? '1.00' : '',
    'idle conn (KiB each)': row.idleKbPerConn === undefined ? '' : row.idleKbPerConn.toFixed(1),
    'loadgen CPU / loop p99 (ms)': `${pct(l.loadgen.cpuPct)} / ${fmt(l.loadgen.eventLoopP99Ms, 1)}`,
    'sim CPU': pct(row.sim.cpuPct),
    'other procs CPU': pct(row.otherCpuPct),
    errors: errorsCell(row),
  };
}

function rowsTable(rows: Array<Row | Cells>, omit: Column[] = []): string {
  const head = ROW_HEAD.filter((h) => !omit.includes(h));
  return table(
    [...head],
    rows.map((r) => {
      const cells: Cells = 'load' in r ? rowRecord(r as Row) : (r as Cells);
      return head.map((h) => cells[h] ?? '');
    }),
  );
}

export function singleTable(r: SingleResult): string {
  const { arena, baseline, direct } = r;
  const A = arena.load;
  const B = baseline.load;
  return rowsTable([
    { server: 'direct (sim → client, no relay)', 'delay p50 (ms)': fmt(direct.p50), p99: fmt(direct.p99), max: fmt(direct.max), 'frames per token': '' },
    arena,
    baseline,
    {
      server: '**Arena / baseline**',
      'delay p50 (ms)': ratio(A.delay.all.p50, B.delay.all.p50),
      p99: ratio(A.delay.all.p99, B.delay.all.p99),
      max: ratio(A.delay.all.max, B.delay.all.max),
      'spectator p99': ratio(A.delay.spectators.p99, B.delay.spectators.p99),
      'TTFT overhead p50 / p99': `${ratio(A.ttftOverhead.p50, B.ttftOverhead.p50)} / ${ratio(A.ttftOverhead.p99, B.ttftOverhead.p99)}`,
      'tok/s to owners': ratio(A.tokensPerSec.owners, B.tokensPerSec.owners),
      'tok/s to spectators': ratio(A.tokensPerSec.spectators, B.tokensPerSec.spectators),
      'server CPU (1 core = 100%)': ratio(sumCpu(arena), sumCpu(baseline)),
      'server CPU µs per delivered token': ratio(cpuUsPerToken(arena), cpuUsPerToken(baseline)),
      'server RSS avg / max (MB)': ratio(arena.servers[0]!.rssAvgMb, baseline.servers[0]!.rssAvgMb),
      'idle conn (KiB each)': ratio(arena.idleKbPerConn ?? NaN, baseline.idleKbPerConn ?? NaN),
    },
  ]);
}

export function clusterTable(r: ClusterResult): string {
  const rows: Array<Row | Cells> = [r.single, r.cluster].filter((x): x is Row => Boolean(x));
  if (r.single) {
    const s = r.single.load;
    const c = r.cluster.load;
    const plus = (n: number) => `${n >= 0 ? '+' : ''}${fmt(n)}`;
    rows.push({
      server: '**×2 + Redis − ×1**',
      'delay p50 (ms)': plus(c.delay.all.p50 - s.delay.all.p50),
      p99: plus(c.delay.all.p99 - s.delay.all.p99),
      'spectator p99': plus(c.delay.spectators.p99 - s.delay.spectators.p99),
      'TTFT overhead p50 / p99': `${plus(c.ttftOverhead.p50 - s.ttftOverhead.p50)} / ${plus(c.ttftOverhead.p99 - s.ttftOverhead.p99)}`,
    });
  }
  return rowsTable(rows, ['idle conn (KiB each)']);
}

export function variantsTable(rows: Row[]): string {
  return rowsTable(rows, ['idle conn (KiB each)']);
}

export function capacityTable(r: CapacityResult): string {
  return [
    rowsTable(r.rows, ['server', 'spectator p99', 'idle conn (KiB each)']),
    '',
    `**${r.target} capacity: ${r.capacity ? `${int(r.capacity)} duels` : 'below the first step'}** (${r.stoppedBecause}).`,
  ].join('\n');
}

export interface SlowVerdicts {
  /** Paused clients were dropped and cost no lasting memory beyond the control run. */
  shed: { met: boolean; text: string };
  /** What the server holds after a full GC stayed level under steady load (control run, or the slow run). */
  steady: { met: boolean; text: string };
}

export function slowVerdict(r: SlowResult): SlowVerdicts {
  const slowClients = r.slow.row.load.slow?.clients ?? 0;
  const trace = r.slow.trace;
  const dropped = Math.max(0, ...trace.map((p) => p.slowDrops).filter(Number.isFinite));
  const firstAt = trace.find((p) => p.slowDrops > 0)?.t ?? null;
  const allAt = trace.find((p) => p.slowDrops >= slowClients)?.t ?? null;
  const endSlow = trace.at(-1)?.rssMb ?? NaN;
  const endControl = r.control?.trace.at(-1)?.rssMb;
  const held = (run?: SlowTrace) => (run?.collected ? (run.collected.end.heapUsed + run.collected.end.external) / 2 ** 20 : undefined);
  const heldSlow = held(r.slow);
  const heldControl = held(r.control);
  // Judged on what the server holds after a full GC: raw RSS mostly shows when V8 last collected.
  const excess = heldSlow === undefined || heldControl === undefined ? undefined : heldSlow - heldControl;
  const kernelPeak = Math.max(...trace.map((p) => p.kernelTxMb));
  const shedMet = slowClients > 0 && dropped >= 0.9 * slowClients && (excess === undefined || excess < 50);
  const shedText =
    `Arena dropped ${dropped} of ${slowClients} paused clients` +
    (firstAt !== null ? ` (first after ${firstAt.toFixed(0)} s${allAt !== null ? `, all by ${allAt.toFixed(0)} s` : ''})` : ' within the window') +
    `; a paused client is only noticed once the kernel's send queue towards it is full (peak ${kernelPeak.toFixed(0)} MB in all, ` +
    `${slowClients ? (kernelPeak / slowClients).toFixed(1) : '–'} MB per paused socket, kernel memory outside the process) and engine.io's queue passes the bound. ` +
    (excess !== undefined
      ? `At the end, after a full GC, the server holds ${mb(heldSlow!)} MB (V8 heap + external) vs ${mb(heldControl!)} MB in the control run without slow consumers (${excess >= 0 ? '+' : ''}${mb(excess)} MB); `
      : '') +
    `raw RSS ${mb(endSlow)} MB` +
    (endControl !== undefined ? ` vs ${mb(endControl)} MB` : '') +
    '.';
  return { shed: { met: shedMet, text: shedText }, steady: steadyVerdict(r.control ?? r.slow) };
}

/**
 * Raw RSS under load mostly shows garbage V8 has not collected yet; what stays after a full GC
 * (harness hook, at the window's start and end, clients still connected) is what the server holds.
 * Information, not a target: these battles never end (multi-turn), so their transcripts grow;
 * steady-state memory is the soak's job (npm run soak).
 */
function steadyVerdict(run: SlowTrace): { met: boolean; text: string } {
  const raw = `raw RSS ${mb(run.trace[0]?.rssMb ?? NaN)} → ${mb(run.trace.at(-1)?.rssMb ?? NaN)} MB`;
  const c = run.collected;
  if (!c) return { met: false, text: `${run.label}: no GC report from the server (${raw})` };
  const heapGrowth = (c.end.heapUsed - c.start.heapUsed) / 2 ** 20;
  const text =
    `${run.label}, after a full GC at the start and the end of the ${run.trace.at(-1)?.t.toFixed(0)} s window: ` +
    `V8 heap used ${mb(c.start.heapUsed / 2 ** 20)} → ${mb(c.end.heapUsed / 2 ** 20)} MB (committed ${mb(c.start.heapTotal / 2 ** 20)} → ${mb(c.end.heapTotal / 2 ** 20)} MB), ` +
    `external ${mb(c.start.external / 2 ** 20)} → ${mb(c.end.external / 2 ** 20)} MB, RSS ${mb(c.start.rss / 2 ** 20)} → ${mb(c.end.rss / 2 ** 20)} MB (${raw} without forcing GC).`;
  return { met: heapGrowth < 0.1 * (c.start.heapUsed / 2 ** 20) + 10, text };
}

export function slowTable(r: SlowResult): string {
  const slow = r.slow.trace;
  const control = r.control?.trace ?? [];
  const every = Math.max(1, Math.round(slow.length / 12));
  const rows = slow
    .filter((_, i) => i % every === 0 || i === slow.length - 1)
    .map((p) => {
      const c = control.reduce<(typeof control)[number] | undefined>((best, q) => (!best || Math.abs(q.t - p.t) < Math.abs(best.t - p.t) ? q : best), undefined);
      return [p.t.toFixed(0), mb(p.rssMb), p.kernelTxMb.toFixed(1), int(p.connected), int(p.slowDrops), c ? mb(c.rssMb) : '–'];
    });
  const row = r.slow.row;
  const verdict = slowVerdict(r);
  return [
    table(['t (s)', 'Arena RSS with slow consumers (MB)', 'kernel send queues to clients (MB)', 'Arena connected clients', 'slow clients dropped', 'RSS in the control run (MB)'], rows),
    '',
    `Normal clients meanwhile: delay p50 ${fmt(row.load.delay.all.p50)} ms, p99 ${fmt(row.load.delay.all.p99)} ms; server CPU ${pct(sumCpu(row))}; other processes ${pct(row.otherCpuPct)}` +
      (r.control ? ` (control: p50 ${fmt(r.control.row.load.delay.all.p50)} ms, p99 ${fmt(r.control.row.load.delay.all.p99)} ms, CPU ${pct(sumCpu(r.control.row))})` : '') +
      '.',
    '',
    `${verdict.shed.met ? 'Slow consumers shed' : '**Slow consumers not shed**'}: ${verdict.shed.text}`,
    '',
    `Memory under this load (${verdict.steady.met ? 'level' : 'growing: these battles never end, so their transcripts grow; steady state is measured by the soak'}): ${verdict.steady.text}`,
  ].join('\n');
}

export interface TargetLine {
  target: string;
  measured: string;
  met: boolean | null;
}

export function targetsTable(lines: TargetLine[]): string {
  return table(
    ['target', 'measured', 'met?'],
    lines.map((l) => [l.target, l.measured, l.met === null ? 'not measured' : l.met ? 'met' : '**not met**']),
    ['---', '---', '---'],
  );
}
