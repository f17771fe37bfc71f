/**
 * The identity-leak detector on the labelled answer set: precision, recall and false-flag rate,
 * overall and per language, and every miss.
 *
 *   npx tsx scripts/leak-eval.ts [--misses]
 */
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

function main(): void {
  const rows = readLeakSet();
  console.log(formatScores(scoreByLanguage(rows)));
  if (process.argv.includes('--misses'))
    for (const row of rows) if (flagged(row) !== row.leak) console.log(`${row.leak ? 'missed ' : 'flagged'} ${row.id} [${row.kind}] ${row.model}: ${row.text.slice(0, 100)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
