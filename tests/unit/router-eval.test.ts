import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateRouter, formatReport, metricsOf, rowsOf } from '../../scripts/router-eval.js';
import { chooseThreshold, train, WEIGHTS_FILE } from '../../scripts/router-train.js';
import { CLASSIFIER_MODEL } from '../../server/router/classifier.js';
import { readCorpus } from '../../server/router/training/dataset.js';

const corpus = readCorpus();
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
const written = corpus.filter((row) => !row.source.startsWith('legacy-'));
const test = rowsOf('test', corpus);

describe('router corpus', () => {
  it('has ≥ 1,500 written prompts in ≥ 8 languages, ≥ 100 in each besides English, both labels in each', () => {
    expect(written.length).toBeGreaterThanOrEqual(1_500);
    const byLang = groupBy(written, (row) => row.lang);
    const big = [...byLang].filter(([lang, rows]) => lang === 'en' || rows.length >= 100);
    expect(big.map(([lang]) => lang).sort()).toEqual(expect.arrayContaining(['de', 'en', 'es', 'fr', 'pt', 'ru', 'sw', 'zh']));
    for (const [, rows] of big) expect(new Set(rows.map((row) => row.label))).toEqual(new Set(['arena', 'tools']));
  });

  it('splits by source: each source in one split, no prompt in two splits, every language in the test split', () => {
    const splitOf = new Map<string, string>();
    for (const row of corpus) {
      expect(splitOf.get(row.source) ?? row.split, row.source).toBe(row.split);
      splitOf.set(row.source, row.split);
    }
    const normalise = (prompt: string) => prompt.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
    const seen = new Map<string, string>();
    const crossing = corpus.filter((row) => {
      const other = seen.get(normalise(row.prompt));
      seen.set(normalise(row.prompt), row.split);
      return other !== undefined && other !== row.split;
    });
    expect(crossing.map((row) => row.prompt)).toEqual([]);
    expect(new Set(test.map((row) => row.lang))).toEqual(new Set(written.map((row) => row.lang)));
  });

  it('holds the near misses both ways: arena prompts with numbers, tools prompts without a digit', () => {
    const arenaWithDigits = written.filter((row) => row.label === 'arena' && /\p{Nd}/u.test(row.prompt));
    const toolsWithoutDigits = written.filter((row) => row.label === 'tools' && !/\p{Nd}/u.test(row.prompt));
    expect(arenaWithDigits.length).toBeGreaterThanOrEqual(300);
    expect(toolsWithoutDigits.length).toBeGreaterThanOrEqual(80);
  });
});

describe('router on the test split (never used for training or for choosing anything)', () => {
  it('meets the issue targets with the shipped weights: arena→tools ≤ 3 %, tools recall ≥ 90 %, accuracy ≥ 93 %, every language ≥ 90 %', async () => {
    const [, , cascade] = await evaluateRouter(test);
    const overall = cascade!.metrics;
    // The fresh test split (written and committed before any retraining or scoring; docs/router.md).
    expect(overall.prompts).toBe(459);
    // Measured once: accuracy 95.2 %, tools recall 90.6 % (184 of 203), arena→tools 1.2 % (3 of 256).
    expect(overall.arenaToTools).toBeLessThanOrEqual(0.03);
    expect(overall.toolsRecall).toBeGreaterThanOrEqual(0.9);
    expect(overall.accuracy).toBeGreaterThanOrEqual(0.93);
    const byLang = groupBy(cascade!.scored, (s) => s.row.lang);
    expect(byLang.size).toBe(9);
    for (const [lang, scored] of byLang) expect({ lang, accuracy: metricsOf(scored).accuracy >= 0.9 }).toEqual({ lang, accuracy: true });
  });

  it('prints the layers, each language, each kind and the near-miss slices', async () => {
    const sample = test.filter((_, i) => i % 10 === 0);
    const report = formatReport(await evaluateRouter(sample), 'test');
    expect(report).toContain('| layer | prompts | accuracy | arena→tools | tools recall | abstained |');
    expect(report).toMatch(/^\| cascade \(rules → classifier\) \| 46 \|/m);
    for (const lang of new Set(sample.map((row) => row.lang))) expect(report).toMatch(new RegExp(`^\\| ${lang} \\| \\d+ \\| \\d+\\.\\d%`, 'm'));
    expect(report).toMatch(/^\| arena: translate \|/m);
    expect(report).toMatch(/^\| tools prompts without digits \|/m);
  });
});

describe('router training', () => {
  it('chooses the threshold with the highest tools recall that keeps arena→tools ≤ 2 % on validation, ties to the higher threshold', () => {
    const point = (threshold: number, arenaToTools: number, recall: number, accuracy = 0.9) => ({ threshold, arenaToTools, recall, accuracy });
    // The more accurate 0.55 breaks the 2 % bound; 0.6 and 0.62 tie on recall, the higher wins; 0.7 is within the bound but finds less.
    const chosen = chooseThreshold([point(0.55, 0.025, 0.97, 0.99), point(0.6, 0.02, 0.94), point(0.62, 0.015, 0.94), point(0.7, 0.01, 0.91)]);
    expect(chosen).toMatchObject({ threshold: 0.62, feasible: true });
    expect(chooseThreshold([point(0.6, 0.03, 0.95), point(0.7, 0.01, 0.85)])).toMatchObject({ threshold: 0.7, feasible: false });
    expect(chooseThreshold([point(0.6, 0.05, 0.95), point(0.7, 0.04, 0.85)])).toMatchObject({ threshold: 0.7, feasible: false });
  });

  it('is reproducible: retraining with the recorded L2 gives the shipped weights file byte for byte', () => {
    expect(CLASSIFIER_MODEL.training).toBeDefined();
    const model = train(corpus, { l2Candidates: [CLASSIFIER_MODEL.training!.l2], log: () => {} });
    expect(`${JSON.stringify(model)}\n`).toBe(readFileSync(WEIGHTS_FILE, 'utf8'));
  }, 60_000);
});
