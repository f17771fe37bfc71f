/**
 * `npm run bench -- --swap`: the GPU swap manager under skewed load (bench/swap/scenario.ts), an
 * Ollama GPU and vLLM engines sharing a GPU, against the same load with every model resident.
 * Writes the run to docs/benchmarks/runs/<date>-<time>-swap.md (bench/runs.ts); the scenario's
 * description is docs/benchmarks.md's "GPU swap manager".
 *
 *   npm run bench -- --swap                 4 runs of 150 battles (≈ 8 min)
 *   npm run bench -- --swap --battles 60    shorter
 *   options: --rate N (battles/s) --seed N --no-write (print only, write no file)
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { utcMinute, writeRunFile } from '../runs.js';
import { runScenario, type ScenarioResult, type ScenarioSettings } from './scenario.js';

const log = (msg: string) => console.error(`[bench:swap] ${msg}`);

export async function runSwapBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: { battles: { type: 'string' }, rate: { type: 'string' }, seed: { type: 'string' }, 'no-write': { type: 'boolean', default: false } },
  });
  const settings: ScenarioSettings = {
    battles: Number(values.battles ?? 150),
    battlesPerSecond: Number(values.rate ?? 1.5),
    weights: [0.075, 0.075, 0.425, 0.425],
    modelBytes: 4.8e9,
    gpuMemory: '10GB',
    gpu: { ttftMs: 60, tokensPerSecond: 50, loadMs: 1400 },
    cpu: { ttftMs: 200, tokensPerSecond: 12 },
    maxTokens: 24,
    sampleMs: 20,
    seed: Number(values.seed ?? 7),
  };
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const results: ScenarioResult[] = [];
  for (const variant of ['all-resident', 'ollama', 'vllm-all-resident', 'vllm'] as const) {
    log(`${variant}: ${settings.battles} battles at ${settings.battlesPerSecond}/s`);
    results.push(await runScenario(variant, settings, log));
  }
  const command = `npm run bench -- ${['--swap', ...argv].join(' ')}`;
  const title = `GPU swap manager: run of ${utcMinute(new Date(started))} — \`${command}\``;
  const text = [
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, load average ${loadBefore.toFixed(2)} before the run; ` +
      `run took ${((Date.now() - started) / 60_000).toFixed(1)} min. Simulated GPU: TTFT ${settings.gpu.ttftMs} ms, ${settings.gpu.tokensPerSecond} tokens/s, ` +
      `cold load ${settings.gpu.loadMs} ms (vLLM wake from level-1 sleep: a tenth); CPU: TTFT ${settings.cpu.ttftMs} ms, ${settings.cpu.tokensPerSecond} tokens/s; ` +
      `${settings.maxTokens} tokens per answer; ${settings.battlesPerSecond} battles/s (Poisson), seed ${settings.seed}; swap manager defaults.`,
    '',
    resultsTable(results),
    '',
    targetsTable(results),
  ].join('\n');
  console.log(`\n## ${title}\n\n${text}\n`);
  if (!values['no-write']) log(`wrote ${writeRunFile('swap', title, text, new Date(started))}`);
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');

function resultsTable(rs: ScenarioResult[]): string {
  const rows = rs.map((r) =>
    [
      r.variant,
      `${r.battles} / ${r.requests}`,
      `${f0(100 * r.hotShare)} %`,
      `${f1(r.hotResidentPct)} % (${r.samples} samples)`,
      `${f1((100 * r.loadsAndUnloads) / r.battles)} (+ ${r.startupLoads} at start-up)`,
      `${f0(r.overBudgetMs)} ms (peak ${f0(r.peakReportedMb)} of ${r.budgetMb} MiB)`,
      String(r.leasedEvictions),
      String(r.chatsRefused),
      `${f1(r.waitedForLoadPct)} %`,
      `${f0(r.servedByGpuPct)} %`,
      `${f0(r.ttftMs.p50)} / ${f0(r.ttftMs.p90)} / ${f0(r.ttftMs.p99)} (n = ${r.ttftMs.n})`,
      r.variant.startsWith('vllm') ? `${r.sleeps} / ${r.wakes}` : '–',
      String(r.errors),
    ].join(' | '),
  );
  return [
    '| run | battles / answers | answers on the hot pair | hot pair resident | loads + unloads per 100 battles | reported memory over budget | leased evictions | chats refused | answers that waited for a load | served by the GPU | first token p50 / p90 / p99 (ms) | vLLM sleeps / wakes | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

function targetsTable(rs: ScenarioResult[]): string {
  const lines = rs
    .filter((r) => !r.variant.endsWith('all-resident'))
    .flatMap((r) => {
      const base = rs.find((b) => b.variant === (r.variant === 'vllm' ? 'vllm-all-resident' : 'all-resident'))!;
      return [
      [`${r.variant}: hot set resident ≥ 90 %`, `${f1(r.hotResidentPct)} %`, r.hotResidentPct >= 90],
      [`${r.variant}: ≤ 10 loads/unloads per 100 battles`, f1((100 * r.loadsAndUnloads) / r.battles), (100 * r.loadsAndUnloads) / r.battles <= 10],
      [`${r.variant}: backend-reported memory over budget 0 ms`, `${f0(r.overBudgetMs)} ms`, r.overBudgetMs === 0],
      [`${r.variant}: evictions of a leased unit 0`, String(r.leasedEvictions), r.leasedEvictions === 0],
      [
        `${r.variant}: first-token p50 within 1.5× of ${base.variant}`,
        `${f0(r.ttftMs.p50)} vs ${f0(base.ttftMs.p50)} ms (${(r.ttftMs.p50 / base.ttftMs.p50).toFixed(2)}×)`,
        r.ttftMs.p50 <= 1.5 * base.ttftMs.p50,
      ],
      ...(r.variant === 'vllm'
        ? [[`vllm: engines sharing the GPU slept and woken by usage; no chat refused`, `${r.sleeps} sleeps, ${r.wakes} wakes, ${r.chatsRefused} refused`, r.sleeps > 0 && r.wakes > 0 && r.chatsRefused === 0]]
        : []),
      ] as Array<[string, string, boolean]>;
    });
  return ['| target | measured | met |', '|---|---|---|', ...lines.map(([t, m, ok]) => `| ${t} | ${m} | ${ok ? 'yes' : '**no**'} |`)].join('\n');
}
