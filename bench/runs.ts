/**
 * Where benchmark runs are kept: one dated markdown file per run under docs/benchmarks/runs/
 * (BENCH_RUNS_DIR overrides it). docs/benchmarks.md is the summary a person keeps up to date;
 * no bench writes into it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNS_DIR = process.env.BENCH_RUNS_DIR ?? new URL('../docs/benchmarks/runs/', import.meta.url).pathname;

/** `2026-12-05 04:22 UTC`. */
export const utcMinute = (at: Date): string => at.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/**
 * Writes `<YYYY-MM-DD>-<HHMM>-<what>.md` (a `-2`, `-3`… suffix if that name is taken) with `title`
 * as its heading and `body` below it, headings one level up (a run's `### (a)` becomes `## (a)`).
 * Returns the path written.
 */
export function writeRunFile(what: string, title: string, body: string, at = new Date()): string {
  mkdirSync(RUNS_DIR, { recursive: true });
  const stamp = at.toISOString().slice(0, 16).replace('T', '-').replace(':', '');
  let file = join(RUNS_DIR, `${stamp}-${what}.md`);
  for (let n = 2; existsSync(file); n++) file = join(RUNS_DIR, `${stamp}-${what}-${n}.md`);
  const text = body.replace(/^#(#+) /gm, '$1 ').trim();
  writeFileSync(file, `# ${title}\n\nSummary and method: [docs/benchmarks.md](../../benchmarks.md).\n\n${text}\n`);
  return file;
}
