/**
 * The identity-leak detector on the labelled answer set: precision, recall and false-flag rate,
 * overall and per language, and every miss.
 *
 *   npx tsx scripts/leak-eval.ts [--misses]
 *
 * The set was written by hand as realistic answers, by the author of the detector. Rows marked
 * `split: heldout…` came in rounds written after the detector was frozen; each round's first run
 * (before its errors were fixed) is recorded in docs/security.md.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { claimsIdentity, leakWords } from '../server/arena/leak.js';

export const LEAK_SET = fileURLToPath(new URL('../tests/fixtures/leak-answers.jsonl', import.meta.url));

/** One realistic answer, labelled: does the model identify itself (its own name or maker)? */
export interface LabelledAnswer {
  id: string;
  lang: string;
  /** The deployment's model name: the detector's words come from it, as in the arena. */
  model: string;
  /** self, self-reasoning, other-claim, denial, mention, code, chunk-trap. */
  kind: string;
  leak: boolean;
  /** `heldout…`: a round written after the detector was frozen (its first-run figures are in docs/security.md). */
  split?: string;
  text: string;
  reasoning?: string;
}

export interface LeakScore {
  lang: string;
  leaks: number;
  clean: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  /** Clean answers flagged, over all clean answers. */
  falseFlagRate: number;
}

export function readLeakSet(path = LEAK_SET): LabelledAnswer[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as LabelledAnswer);
}

/** The detector's verdict, exactly as the arena takes it: the whole text and reasoning, the deployment's words. */
export function flagged(row: LabelledAnswer): boolean {
  return claimsIdentity(leakWords([row.model]), row.reasoning ? `${row.text}\n${row.reasoning}` : row.text);
}

export function score(rows: LabelledAnswer[], lang = 'all'): LeakScore {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const row of rows) {
    const hit = flagged(row);
    if (hit && row.leak) tp++;
    else if (hit) fp++;
    else if (row.leak) fn++;
  }
  const leaks = rows.filter((r) => r.leak).length;
  const clean = rows.length - leaks;
  return { lang, leaks, clean, tp, fp, fn, precision: tp + fp ? tp / (tp + fp) : 1, recall: leaks ? tp / leaks : 1, falseFlagRate: clean ? fp / clean : 0 };
}

export function scoreByLanguage(rows: LabelledAnswer[]): LeakScore[] {
  const langs = [...new Set(rows.map((r) => r.lang))];
  return [...langs.map((lang) => score(rows.filter((r) => r.lang === lang), lang)), score(rows)];
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function formatScores(scores: LeakScore[]): string {
  const lines = ['| language | answers | leaks | precision | recall | false flags | TP | FP | FN |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const s of scores)
    lines.push(`| ${s.lang} | ${s.leaks + s.clean} | ${s.leaks} | ${pct(s.precision)} | ${pct(s.recall)} | ${pct(s.falseFlagRate)} (${s.fp}/${s.clean}) | ${s.tp} | ${s.fp} | ${s.fn} |`);
  return lines.join('\n');
}

/** What the check costs: it runs once per answer, when the answer ends (never per token). */
function timing(rows: LabelledAnswer[]): string {
  for (const row of rows) flagged(row); // compile every pattern first
  const start = performance.now();
  const rounds = 20;
  for (let i = 0; i < rounds; i++) for (const row of rows) flagged(row);
  const perAnswer = (performance.now() - start) / (rounds * rows.length);
  const long = rows.map((r) => r.text).join('\n').repeat(4);
  const t = performance.now();
  claimsIdentity(leakWords(['Qwen/Qwen2.5-7B-Instruct']), long);
  return `Cost: ${(perAnswer * 1000).toFixed(0)} µs per answer (mean of ${rounds * rows.length} checks); ${(performance.now() - t).toFixed(1)} ms for one ${long.length.toLocaleString('en')}-character answer.`;
}

function main(): void {
  const rows = readLeakSet();
  console.log(`All ${rows.length} answers:\n`);
  console.log(formatScores(scoreByLanguage(rows)));
  // Each held-out round was written after the detector was frozen; docs/security.md records its first run.
  for (const split of [...new Set(rows.map((r) => r.split).filter(Boolean))]) {
    const round = rows.filter((r) => r.split === split);
    console.log(`\n${split} (${round.length} answers written after the detector was frozen; now):\n`);
    console.log(formatScores([score(round, split!)]));
  }
  console.log(`\n${timing(rows)}`);
  if (parseArgs({ options: { misses: { type: 'boolean', default: false } } }).values.misses)
    for (const row of rows) if (flagged(row) !== row.leak) console.log(`${row.leak ? 'missed ' : 'flagged'} ${row.id} [${row.kind}] ${row.model}: ${row.text.slice(0, 100)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
