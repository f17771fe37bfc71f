import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Route } from '../types.js';

/**
 * The labelled router corpus (tests/fixtures/router/prompts.jsonl): one prompt per line with the
 * route it should take, its language, what kind of request it is, who wrote it (`source`) and
 * its split. Splits follow sources, so no author's style is in two splits; the test split is
 * for reporting only.
 */

export type Split = 'train' | 'validation' | 'test';

export interface LabelledPrompt {
  prompt: string;
  label: Route;
  /** ISO 639-1 language code of the prompt (its main language when mixed). */
  lang: string;
  /** What is asked: math, date, units… (tools) or writing, translate, numbers-no-compute… (arena). */
  kind: string;
  /** The authoring batch or persona; the unit of the split. */
  source: string;
  split: Split;
}

export const CORPUS_FILE = fileURLToPath(new URL('../../../tests/fixtures/router/prompts.jsonl', import.meta.url));

const SPLITS = new Set<string>(['train', 'validation', 'test']);

export function readCorpus(path: string = CORPUS_FILE): LabelledPrompt[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, index) => [line.trim(), index + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, lineNumber]) => parseRow(JSON.parse(line) as Record<string, unknown>, `${path}:${lineNumber}`));
}

function parseRow(row: Record<string, unknown>, where: string): LabelledPrompt {
  const text = (key: string) => (typeof row[key] === 'string' && row[key] !== '' ? (row[key] as string) : undefined);
  const [prompt, lang, kind, source] = [text('prompt'), text('lang'), text('kind'), text('source')];
  const split = text('split') ?? 'train';
  if (!prompt || (row.label !== 'arena' && row.label !== 'tools') || !lang || !kind || !source || !SPLITS.has(split))
    throw new Error(`${where}: expected {"prompt", "label": "arena"|"tools", "lang", "kind", "source", "split": "train"|"validation"|"test"}`);
  return { prompt, label: row.label, lang, kind, source, split: split as Split };
}
