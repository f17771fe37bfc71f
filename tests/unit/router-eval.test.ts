import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readLabelledPrompts } from '../../server/router/training/dataset.js';
import { EVALUATION_SET, evaluateRouter, formatEvaluation } from '../../scripts/router-eval.js';

const TRAINING_SET = fileURLToPath(new URL('../../server/router/training/prompts.jsonl', import.meta.url));
const evaluation = readLabelledPrompts(EVALUATION_SET);

describe('router evaluation set', () => {
  it('is big enough, has both classes, and shares no prompt with the training set', () => {
    expect(evaluation.length).toBeGreaterThanOrEqual(200);
    const tools = evaluation.filter((row) => row.label === 'tools').length;
    expect(tools).toBeGreaterThanOrEqual(80);
    expect(evaluation.length - tools).toBeGreaterThanOrEqual(80);
    // Compared without case, punctuation or apostrophes, so "What's X?" and "whats x" count as the same prompt.
    const normalize = (prompt: string) => prompt.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const training = new Set(readLabelledPrompts(TRAINING_SET).map((row) => normalize(row.prompt)));
    expect(evaluation.filter((row) => training.has(normalize(row.prompt))).map((row) => row.prompt)).toEqual([]);
  });
});

describe('router accuracy on the evaluation set', () => {
  it('meets the floors recorded in docs/router.md', async () => {
    const [rules, classifier, cascade] = await evaluateRouter(evaluation);
    // Measured: rules 99.0% precision; classifier 93.6% accuracy; cascade 97.7% accuracy, F1 97.2%.
    expect(rules!.precision).toBeGreaterThanOrEqual(0.95);
    expect(classifier!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(cascade!.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(cascade!.f1).toBeGreaterThanOrEqual(0.95);
    expect(cascade!.accuracy).toBeGreaterThan(Math.max(rules!.accuracy, classifier!.accuracy));
  });

  it('prints a markdown table per layer with the confusion matrix', async () => {
    const table = formatEvaluation(await evaluateRouter(evaluation.slice(0, 20)), 20);
    expect(table).toContain('| layer | precision | recall | F1 | accuracy | TP | FP | FN | TN |');
    expect(table.split('\n').filter((line) => /^\| (rules|classifier|cascade)/.test(line))).toHaveLength(3);
  });
});
