import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateRouter, formatReport, metricsOf, rowsOf } from '../../scripts/router-eval.js';
import { train, WEIGHTS_FILE } from '../../scripts/router-train.js';
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
  it('meets the accuracy, recall and per-language targets with the shipped weights; arena→tools no worse than measured', async () => {
    const [, , cascade] = await evaluateRouter(test);
    const overall = cascade!.metrics;
    expect(overall.prompts).toBe(450);
    // Measured: accuracy 94.9 %, tools recall 93.9 %, arena→tools 4.3 % (11 of 253).
    expect(overall.accuracy).toBeGreaterThanOrEqual(0.93);
    expect(overall.toolsRecall).toBeGreaterThanOrEqual(0.9);
    // The target is ≤ 3 % and is NOT met: the test split measures 11 of 253 (docs/router.md).
    // This bound is the measured count, so that it cannot get worse unnoticed.
    expect(overall.arenaToTools * overall.arenaPrompts).toBeLessThanOrEqual(11);
    const byLang = groupBy(cascade!.scored, (s) => s.row.lang);
    expect(byLang.size).toBe(9);
    for (const [lang, scored] of byLang) expect({ lang, accuracy: metricsOf(scored).accuracy >= 0.9 }).toEqual({ lang, accuracy: true });
  });

  it('prints the layers, each language, each kind and the near-miss slices', async () => {
    const sample = test.filter((_, i) => i % 10 === 0);
    const report = formatReport(await evaluateRouter(sample), 'test');
    expect(report).toContain('| layer | prompts | accuracy | arena→tools | tools recall | abstained |');
    expect(report).toMatch(/^\| cascade \(rules → classifier\) \| 45 \|/m);
    for (const lang of new Set(sample.map((row) => row.lang))) expect(report).toMatch(new RegExp(`^\\| ${lang} \\| \\d+ \\| \\d+\\.\\d%`, 'm'));
    expect(report).toMatch(/^\| arena: translate \|/m);
    expect(report).toMatch(/^\| tools prompts without digits \|/m);
  });
});

describe('router training', () => {
  it('is reproducible: retraining with the recorded L2 gives the shipped weights file byte for byte', () => {
    expect(CLASSIFIER_MODEL.training).toBeDefined();
    const model = train(corpus, { l2Candidates: [CLASSIFIER_MODEL.training!.l2], log: () => {} });
    expect(`${JSON.stringify(model)}\n`).toBe(readFileSync(WEIGHTS_FILE, 'utf8'));
  }, 60_000);
});
