/**
 * Scores the router on the labelled corpus (tests/fixtures/router/prompts.jsonl), test split by default:
 *   npx tsx scripts/router-eval.ts [--split test|validation|train|all] [--mistakes]
 * prints, as markdown, accuracy, the arena→tools rate (arena prompts sent to tools: the costly
 * error) and tools recall for each layer alone and the cascade, then for the cascade per language,
 * per kind, and on the near-miss slices. A layer that abstains counts as arena, the default.
 *
 * An operator's own routing model (the optional LLM layer) is measured with:
 *   npx tsx scripts/router-eval.ts --llm-url http://127.0.0.1:11434 --llm-model qwen2.5:3b \
 *     [--llm-flavor ollama|vllm|openai] [--llm-timeout-ms 3000] [--llm-key-env OPENAI_API_KEY] [--limit 200]
 * which adds the LLM alone (with how often it abstained) and the cascade with the LLM last.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { classify } from '../server/router/classifier.js';
import { createLlmLayer, type LlmRouterOptions } from '../server/router/llm.js';
import { createRouter } from '../server/router/router.js';
import { applyRules } from '../server/router/rules.js';
import { readCorpus, type LabelledPrompt } from '../server/router/training/dataset.js';
import { isAbstention, type LayerVerdict, type Route } from '../server/router/types.js';
import { createProvider } from '../server/providers/index.js';

export interface Metrics {
  prompts: number;
  arenaPrompts: number;
  toolsPrompts: number;
  accuracy: number;
  /** Share of arena prompts routed to tools. */
  arenaToTools: number;
  /** Share of tools prompts routed to tools. */
  toolsRecall: number;
}

export interface Scored {
  row: LabelledPrompt;
  predicted: Route;
  abstained: boolean;
}

export interface LayerReport {
  name: string;
  metrics: Metrics;
  /** How many prompts the layer had no opinion on (counted as arena). */
  abstentions: number;
  scored: Scored[];
}

type Predictor = (prompt: string) => Promise<LayerVerdict | { route: Route; layer: string }>;

const ratio = (numerator: number, denominator: number): number => (denominator === 0 ? Number.NaN : numerator / denominator);

export function metricsOf(scored: Scored[]): Metrics {
  const arena = scored.filter((s) => s.row.label === 'arena');
  const tools = scored.filter((s) => s.row.label === 'tools');
  return {
    prompts: scored.length,
    arenaPrompts: arena.length,
    toolsPrompts: tools.length,
    accuracy: ratio(scored.filter((s) => s.predicted === s.row.label).length, scored.length),
    arenaToTools: ratio(arena.filter((s) => s.predicted === 'tools').length, arena.length),
    toolsRecall: ratio(tools.filter((s) => s.predicted === 'tools').length, tools.length),
  };
}

async function scoreLayer(name: string, predict: Predictor, rows: LabelledPrompt[]): Promise<LayerReport> {
  const scored: Scored[] = [];
  for (const row of rows) {
    const verdict = await predict(row.prompt);
    const abstained = 'abstain' in verdict && isAbstention(verdict as LayerVerdict);
    scored.push({ row, predicted: abstained ? 'arena' : (verdict as { route: Route }).route, abstained });
  }
  return { name, metrics: metricsOf(scored), abstentions: scored.filter((s) => s.abstained).length, scored };
}

export function rowsOf(split: string, rows: LabelledPrompt[] = readCorpus()): LabelledPrompt[] {
  return split === 'all' ? rows : rows.filter((row) => row.split === split);
}

/** Rules alone, classifier alone, the shipped cascade; with `llm`, also the LLM alone and the cascade ending with it. */
export async function evaluateRouter(rows: LabelledPrompt[], llm?: LlmRouterOptions): Promise<LayerReport[]> {
  const cascade = createRouter({ classifier: true });
  const reports = [
    await scoreLayer('rules', async (prompt) => applyRules(prompt), rows),
    await scoreLayer('classifier', async (prompt) => classify(prompt), rows),
    await scoreLayer('cascade (rules → classifier)', (prompt) => cascade.decide(prompt), rows),
  ];
  if (llm) {
    const layer = createLlmLayer(llm);
    const withLlm = createRouter({ classifier: true, llm });
    reports.push(await scoreLayer(`LLM ${llm.model} alone`, layer, rows));
    reports.push(await scoreLayer(`cascade (rules → classifier → LLM ${llm.model})`, (prompt) => withLlm.decide(prompt), rows));
  }
  return reports;
}

const percent = (value: number): string => (Number.isNaN(value) ? '–' : `${(value * 100).toFixed(1)}%`);

function metricCells(m: Metrics): string {
  return `${m.prompts} | ${percent(m.accuracy)} | ${percent(m.arenaToTools)} (of ${m.arenaPrompts}) | ${percent(m.toolsRecall)} (of ${m.toolsPrompts})`;
}

const HEADER = (first: string) => [`| ${first} | prompts | accuracy | arena→tools | tools recall |`, '| --- | --- | --- | --- | --- |'];

function groupTable(title: string, scored: Scored[], key: (s: Scored) => string): string[] {
  const groups = new Map<string, Scored[]>();
  for (const s of scored) groups.set(key(s), [...(groups.get(key(s)) ?? []), s]);
  const lines = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([name, rows]) => `| ${name} | ${metricCells(metricsOf(rows))} |`);
  return [...HEADER(title), ...lines];
}

const HAS_DIGIT = /\p{Nd}/u;

/** The near misses the router must get right: arena prompts full of numbers, tools prompts without a digit. */
function sliceTable(scored: Scored[]): string[] {
  const slices: [string, Scored[]][] = [
    ['arena prompts with digits', scored.filter((s) => s.row.label === 'arena' && HAS_DIGIT.test(s.row.prompt))],
    ['tools prompts without digits', scored.filter((s) => s.row.label === 'tools' && !HAS_DIGIT.test(s.row.prompt))],
  ];
  return [...HEADER('slice'), ...slices.map(([name, rows]) => `| ${name} | ${metricCells(metricsOf(rows))} |`)];
}

export function formatReport(reports: LayerReport[], splitName: string): string {
  const main = reports.at(-1)!;
  const layerLines = reports.map((r) => `| ${r.name} | ${metricCells(r.metrics)} | ${r.abstentions} |`);
  return [
    `Split: ${splitName}, ${main.metrics.prompts} prompts. arena→tools = arena prompts sent to tools; a layer that abstains counts as arena.`,
    '',
    '| layer | prompts | accuracy | arena→tools | tools recall | abstained |',
    '| --- | --- | --- | --- | --- | --- |',
    ...layerLines,
    '',
    `Per language (${main.name}):`,
    '',
    ...groupTable('language', main.scored, (s) => s.row.lang),
    '',
    `Per kind (${main.name}):`,
    '',
    ...groupTable('kind', main.scored, (s) => `${s.row.label}: ${s.row.kind}`),
    '',
    ...sliceTable(main.scored),
  ].join('\n');
}

function formatMistakes(report: LayerReport): string {
  const wrong = report.scored.filter((s) => s.predicted !== s.row.label);
  const lines = wrong.map((s) => `- (${s.row.label === 'tools' ? 'missed tools' : 'wrongly tools'}, ${s.row.lang}, ${s.row.kind}) ${s.row.prompt.replace(/\s+/g, ' ').slice(0, 160)}`);
  return [`Mistakes of the ${report.name}:`, ...lines].join('\n');
}

function llmOptions(values: Record<string, string | boolean | undefined>): LlmRouterOptions | undefined {
  const url = values['llm-url'] as string | undefined;
  if (!url) return undefined;
  const model = values['llm-model'] as string | undefined;
  if (!model) throw new Error('--llm-url needs --llm-model');
  const flavor = (values['llm-flavor'] as string | undefined) ?? 'ollama';
  if (flavor !== 'ollama' && flavor !== 'vllm' && flavor !== 'openai') throw new Error(`--llm-flavor must be ollama, vllm or openai, got "${flavor}"`);
  const timeoutMs = Number(values['llm-timeout-ms'] ?? 3_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('--llm-timeout-ms must be a positive number');
  const keyEnv = values['llm-key-env'] as string | undefined;
  const timeouts = { connectMs: timeoutMs, firstTokenMs: timeoutMs, idleMs: timeoutMs };
  const provider = createProvider({ id: 'router-llm', kind: flavor, url, gpu: false, demo: false, ...(keyEnv ? { apiKeyEnv: keyEnv } : {}) }, { timeouts });
  return { provider, model, timeoutMs };
}

export interface EvalArgs {
  split: string;
  limit: number;
  mistakes: boolean;
  llm?: LlmRouterOptions;
}

/** The command line, checked: a wrong flag is an error that names it. */
export function parseEvalArgs(args: string[]): EvalArgs {
  const { values } = parseArgs({
    args,
    options: {
      split: { type: 'string', default: 'test' },
      mistakes: { type: 'boolean', default: false },
      limit: { type: 'string' },
      'llm-url': { type: 'string' },
      'llm-model': { type: 'string' },
      'llm-flavor': { type: 'string' },
      'llm-timeout-ms': { type: 'string' },
      'llm-key-env': { type: 'string' },
    },
  });
  const split = values.split!;
  if (!['train', 'validation', 'test', 'all'].includes(split)) throw new Error(`--split must be train, validation, test or all, got "${split}"`);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit > 0)) throw new Error('--limit must be a positive number');
  const llm = llmOptions(values);
  return { split, limit, mistakes: values.mistakes!, ...(llm ? { llm } : {}) };
}

async function main(): Promise<void> {
  const args = parseEvalArgs(process.argv.slice(2));
  const rows = rowsOf(args.split).slice(0, args.limit);
  const reports = await evaluateRouter(rows, args.llm);
  console.log(formatReport(reports, args.split));
  if (args.mistakes) console.log(`\n${formatMistakes(reports.at(-1)!)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
