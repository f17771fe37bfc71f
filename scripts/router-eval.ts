/**
 * Scores the router on the labelled evaluation set (never used for training):
 *   npx tsx scripts/router-eval.ts
 * prints precision, recall and F1 of the `tools` class, accuracy and the confusion matrix for the
 * rules alone, the classifier alone and the full cascade (without the optional LLM layer), as
 * markdown. A layer that abstains counts as `arena`, the router's default.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { classify } from '../server/router/classifier.js';
import { createRouter } from '../server/router/router.js';
import { applyRules } from '../server/router/rules.js';
import { readLabelledPrompts, type LabelledPrompt } from '../server/router/training/dataset.js';
import { isAbstention, type LayerVerdict, type Route } from '../server/router/types.js';

export const EVALUATION_SET = fileURLToPath(new URL('../tests/fixtures/router-prompts.jsonl', import.meta.url));

export interface LayerScore {
  name: string;
  /** Confusion matrix with `tools` as the positive class. */
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  /** The prompts it got wrong, with the label they should have had. */
  mistakes: LabelledPrompt[];
}

type Predictor = (prompt: string) => Promise<Route>;

const routeOf = (verdict: LayerVerdict): Route => (isAbstention(verdict) ? 'arena' : verdict.route);

async function scoreLayer(name: string, predict: Predictor, rows: LabelledPrompt[]): Promise<LayerScore> {
  const counts = { truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0 };
  const mistakes: LabelledPrompt[] = [];
  for (const row of rows) {
    const predicted = await predict(row.prompt);
    if (predicted !== row.label) mistakes.push(row);
    if (predicted === 'tools') counts[row.label === 'tools' ? 'truePositives' : 'falsePositives']++;
    else counts[row.label === 'tools' ? 'falseNegatives' : 'trueNegatives']++;
  }
  const precision = ratio(counts.truePositives, counts.truePositives + counts.falsePositives);
  const recall = ratio(counts.truePositives, counts.truePositives + counts.falseNegatives);
  const f1 = ratio(2 * precision * recall, precision + recall);
  const accuracy = ratio(counts.truePositives + counts.trueNegatives, rows.length);
  return { name, ...counts, precision, recall, f1, accuracy, mistakes };
}

const ratio = (numerator: number, denominator: number): number => (denominator === 0 ? 0 : numerator / denominator);

/** Rules alone, classifier alone, and the cascade, on `rows` (default: the evaluation set). */
export async function evaluateRouter(rows: LabelledPrompt[] = readLabelledPrompts(EVALUATION_SET)): Promise<LayerScore[]> {
  const cascade = createRouter({ classifier: true });
  return [
    await scoreLayer('rules', async (prompt) => routeOf(applyRules(prompt)), rows),
    await scoreLayer('classifier', async (prompt) => routeOf(classify(prompt)), rows),
    await scoreLayer('cascade (rules → classifier)', async (prompt) => (await cascade.decide(prompt)).route, rows),
  ];
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;

export function formatEvaluation(scores: LayerScore[], total: number): string {
  const header = [
    `Evaluation set: ${total} prompts. Positive class: tools. TP/FP/FN/TN = confusion matrix.`,
    '',
    '| layer | precision | recall | F1 | accuracy | TP | FP | FN | TN |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rows = scores.map(
    (s) =>
      `| ${s.name} | ${percent(s.precision)} | ${percent(s.recall)} | ${percent(s.f1)} | ${percent(s.accuracy)} | ${s.truePositives} | ${s.falsePositives} | ${s.falseNegatives} | ${s.trueNegatives} |`,
  );
  return [...header, ...rows].join('\n');
}

function formatMistakes(score: LayerScore): string {
  const lines = score.mistakes.map((row) => `- (${row.label === 'tools' ? 'missed tools' : 'wrongly tools'}) ${row.prompt}`);
  return [`Mistakes of the ${score.name}:`, ...lines].join('\n');
}

async function main(): Promise<void> {
  const rows = readLabelledPrompts(EVALUATION_SET);
  const scores = await evaluateRouter(rows);
  console.log(formatEvaluation(scores, rows.length));
  if (process.argv.includes('--mistakes')) console.log(`\n${formatMistakes(scores.at(-1)!)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
