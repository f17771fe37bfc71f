/** Markdown tables for the relay scenarios. */
import type { LatencySummary } from './histogram.js';
import { fmt, type CapacityResult, type ClusterResult, type RelaySettings, type Row, type SingleResult, type SlowResult, type SlowTrace } from './scenarios.js';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '–');
const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}%` : '–');
const mb = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const sumCpu = (row: Row) => row.servers.reduce((sum, u) => sum + u.cpuPct, 0);
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

function delayCells(d: LatencySummary): string[] {
  return [fmt(d.p50), fmt(d.p99), fmt(d.max)];
}

export function settingsLine(s: RelaySettings, meanTokens: number): string {
  return (
    `Each duel: two simulated models at ${s.tokensPerSecond} tokens/s, TTFT ${s.ttftMs} ms, ${meanTokens.toFixed(0)} tokens per answer on average ` +
    `(prompts chosen for 40–60); a new battle (\`battle:next\`) as soon as both answers end, spectators follow with \`watch:join\`. ` +
    `Warm-up ${s.warmupS} s, then ${s.durationS} s measured. Delay = client receive time − the simulator's emission stamp, for every token ` +
    `(each stamp inside a coalesced delta counts).`
  );
}

function rowCells(row: Row): string[] {
  const l = row.load;
  return [
    row.label,
    int(row.duels),
    int(row.spectators),
    ...delayCells(l.delay.all),
    fmt(l.delay.spectators.p99),
    `${fmt(l.ttftOverhead.p50)} / ${fmt(l.ttftOverhead.p99)}`,
    int(l.tokensPerSec.owners),
    int(l.tokensPerSec.spectators),
    cpuCell(row),
    rssCell(row),
    row.idleKbPerConn === undefined ? '' : row.idleKbPerConn.toFixed(1),
    `${pct(l.loadgen.cpuPct)} / ${fmt(l.loadgen.eventLoopP99Ms, 1)}`,
    pct(row.sim.cpuPct),
    errorsCell(row),
  ];
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
  'server RSS avg / max (MB)',
  'idle conn (KiB each)',
  'loadgen CPU / loop p99 (ms)',
  'sim CPU',
  'errors',
];

export function singleTable(r: SingleResult): string {
  const { arena, baseline, direct } = r;
  const A = arena.load;
  const B = baseline.load;
  const directRow = ['direct (sim → client, no relay)', '', '', ...delayCells(direct), '', '', '', '', '', '', '', '', '', ''];
  const ratios = [
    '**Arena / baseline**',
    '',
    '',
    ratio(A.delay.all.p50, B.delay.all.p50),
    ratio(A.delay.all.p99, B.delay.all.p99),
    ratio(A.delay.all.max, B.delay.all.max),
    ratio(A.delay.spectators.p99, B.delay.spectators.p99),
    `${ratio(A.ttftOverhead.p50, B.ttftOverhead.p50)} / ${ratio(A.ttftOverhead.p99, B.ttftOverhead.p99)}`,
    ratio(A.tokensPerSec.owners, B.tokensPerSec.owners),
    ratio(A.tokensPerSec.spectators, B.tokensPerSec.spectators),
    ratio(sumCpu(arena), sumCpu(baseline)),
    ratio(arena.servers[0]!.rssAvgMb, baseline.servers[0]!.rssAvgMb),
    ratio(arena.idleKbPerConn ?? NaN, baseline.idleKbPerConn ?? NaN),
    '',
    '',
    '',
  ];
  return table(ROW_HEAD, [directRow, rowCells(arena), rowCells(baseline), ratios]);
}

export function clusterTable(r: ClusterResult): string {
  const rows = [r.single, r.cluster].filter((x): x is Row => Boolean(x)).map(rowCells);
  if (r.single) {
    const s = r.single.load;
    const c = r.cluster.load;
    rows.push([
      '**×2 + Redis − ×1**',
      '',
      '',
      `+${fmt(c.delay.all.p50 - s.delay.all.p50)}`,
      `+${fmt(c.delay.all.p99 - s.delay.all.p99)}`,
      '',
      `+${fmt(c.delay.spectators.p99 - s.delay.spectators.p99)}`,
      `+${fmt(c.ttftOverhead.p50 - s.ttftOverhead.p50)} / +${fmt(c.ttftOverhead.p99 - s.ttftOverhead.p99)}`,
      ...Array(8).fill(''),
    ]);
  }
  return table(ROW_HEAD.filter((h) => h !== 'idle conn (KiB each)'), rows.map((cells) => cells.filter((_, i) => i !== 12)));
}

export function capacityTable(r: CapacityResult): string {
  const rows = r.rows.map((row) => {
    const l = row.load;
    return [
      int(row.duels),
      int(row.spectators),
      ...delayCells(l.delay.all),
      int(l.tokensPerSec.owners),
      int(l.tokensPerSec.spectators),
      cpuCell(row),
      mb(row.servers[0]!.rssMaxMb),
      pct(l.loadgen.cpuPct),
      fmt(l.loadgen.eventLoopP99Ms, 1),
      pct(row.sim.cpuPct),
      errorsCell(row),
    ];
  });
  return [
    table(
      ['duels', 'spectators', 'delay p50 (ms)', 'p99', 'max', 'tok/s to owners', 'tok/s to spectators', 'server CPU', 'server RSS max (MB)', 'loadgen CPU', 'loadgen loop p99 (ms)', 'sim CPU', 'errors'],
      rows,
    ),
    '',
    `**${r.target} capacity: ${r.capacity ? `${int(r.capacity)} duels` : 'below the first step'}** (${r.stoppedBecause}).`,
  ].join('\n');
}

/** Least-squares slope of RSS over the second half of a trace, MB per minute. */
export function rssSlope(trace: SlowTrace['trace']): number {
  const half = trace.slice(Math.floor(trace.length / 2));
  if (half.length < 2) return NaN;
  const n = half.length;
  const mt = half.reduce((a, p) => a + p.t, 0) / n;
  const mr = half.reduce((a, p) => a + p.rssMb, 0) / n;
  const num = half.reduce((a, p) => a + (p.t - mt) * (p.rssMb - mr), 0);
  const den = half.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return den > 0 ? (num / den) * 60 : NaN;
}

export function slowVerdict(r: SlowResult): { bounded: boolean; text: string } {
  const slope = rssSlope(r.slow.trace);
  const controlSlope = r.control ? rssSlope(r.control.trace) : 0;
  const first = r.slow.trace[0]?.rssMb ?? NaN;
  const last = r.slow.trace.at(-1)?.rssMb ?? NaN;
  const bounded = !(slope > Math.max(5, 2 * controlSlope));
  const text =
    `RSS ${mb(first)} → ${mb(last)} MB over ${r.slow.trace.at(-1)?.t.toFixed(0)} s; still growing ${slope.toFixed(1)} MB/min at the end` +
    (r.control ? ` (control without slow consumers: ${controlSlope.toFixed(1)} MB/min)` : '') +
    `. Slow clients closed by the server: ${r.slow.row.load.slow?.closedByServer ?? 0} of ${r.slow.row.load.slow?.clients ?? 0}.`;
  return { bounded, text: `${bounded ? 'Bounded' : '**Not bounded**'}: ${text}` };
}

export function slowTable(r: SlowResult): string {
  const slow = r.slow.trace;
  const control = r.control?.trace ?? [];
  const every = Math.max(1, Math.round(slow.length / 10));
  const rows = slow
    .filter((_, i) => i % every === 0 || i === slow.length - 1)
    .map((p) => {
      const c = control.reduce<(typeof control)[number] | undefined>((best, q) => (!best || Math.abs(q.t - p.t) < Math.abs(best.t - p.t) ? q : best), undefined);
      return [p.t.toFixed(0), mb(p.rssMb), p.kernelTxMb.toFixed(1), int(p.sockets), c ? mb(c.rssMb) : '–'];
    });
  const row = r.slow.row;
  return [
    table(['t (s)', 'Arena RSS with slow consumers (MB)', 'kernel send queues (MB)', 'open sockets', 'RSS control, no slow consumers (MB)'], rows),
    '',
    `Normal clients meanwhile: delay p50 ${fmt(row.load.delay.all.p50)} ms, p99 ${fmt(row.load.delay.all.p99)} ms; server CPU ${pct(sumCpu(row))}` +
      (r.control ? ` (control: p99 ${fmt(r.control.row.load.delay.all.p99)} ms, CPU ${pct(sumCpu(r.control.row))})` : '') +
      '.',
    '',
    slowVerdict(r).text,
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
