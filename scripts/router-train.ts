/**
 * Trains the router's classifier and writes server/router/classifier-weights.json:
 *   npx tsx scripts/router-train.ts
 * 1. logistic regression on the train split (hashed character n-grams, features.ts), by
 *    full-batch Adam: no randomness, so the same corpus always gives the same weights;
 * 2. the L2 strength, Platt calibration and the tools threshold are chosen on the validation split:
 *    the threshold with the highest tools recall that keeps arena→tools ≤ 2 % (recall ≥ 90 % required);
 * 3. the test split is never read here (scripts/router-eval.ts reports on it).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { calibrated, rawLogit } from '../server/router/classifier.js';
import { FEATURE_VERSION, vectorise, type SparseVector } from '../server/router/features.js';
import { applyRules } from '../server/router/rules.js';
import { readCorpus, type LabelledPrompt } from '../server/router/training/dataset.js';
import { isAbstention, type ClassifierModel } from '../server/router/types.js';

export const WEIGHTS_FILE = fileURLToPath(new URL('../server/router/classifier-weights.json', import.meta.url));

const BUCKETS = 1 << 16;
const ITERATIONS = 400;
const LEARNING_RATE = 0.05;
const L2_CANDIDATES = [1e-6, 3e-6, 1e-5, 3e-5];
/** On validation: arena→tools at most 2 %, a margin under the 3 % target (validation is closer to train than real traffic); recall ≥ 90 % required. */
const MAX_ARENA_TO_TOOLS = 0.02;
const MIN_TOOLS_RECALL = 0.9;
/** Below this calibrated p(tools) the classifier says arena itself; between it and the tools threshold it abstains (the LLM layer, if any, decides). */
const ARENA_THRESHOLD = 0.2;

interface Example {
  x: SparseVector;
  y: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function fit(examples: Example[], l2: number): { bias: number; weights: Float64Array } {
  const weights = new Float64Array(BUCKETS);
  const [m, v] = [new Float64Array(BUCKETS + 1), new Float64Array(BUCKETS + 1)];
  let bias = 0;
  const [beta1, beta2] = [0.9, 0.999];
  for (let t = 1; t <= ITERATIONS; t++) {
    const gradient = new Float64Array(BUCKETS + 1);
    for (const { x, y } of examples) {
      const error = sigmoid(x.indexes.reduce((sum, index, i) => sum + weights[index]! * x.values[i]!, bias)) - y;
      x.indexes.forEach((index, i) => (gradient[index]! += (error * x.values[i]!) / examples.length));
      gradient[BUCKETS]! += error / examples.length;
    }
    for (let j = 0; j <= BUCKETS; j++) {
      const g = j < BUCKETS ? gradient[j]! + l2 * weights[j]! : gradient[j]!;
      m[j] = beta1 * m[j]! + (1 - beta1) * g;
      v[j] = beta2 * v[j]! + (1 - beta2) * g * g;
      const step = (LEARNING_RATE * (m[j]! / (1 - beta1 ** t))) / (Math.sqrt(v[j]! / (1 - beta2 ** t)) + 1e-8);
      if (j < BUCKETS) weights[j]! -= step;
      else bias -= step;
    }
  }
  return { bias, weights };
}

/** Platt scaling by Newton's method, with Platt's smoothed targets so a separable set stays finite. */
function plattScale(logits: number[], labels: number[]): { a: number; b: number } {
  const positives = labels.filter((y) => y === 1).length;
  const negatives = labels.length - positives;
  const targets = labels.map((y) => (y === 1 ? (positives + 1) / (positives + 2) : 1 / (negatives + 2)));
  let [a, b] = [1, 0];
  for (let iteration = 0; iteration < 100; iteration++) {
    let [ga, gb, haa, hab, hbb] = [0, 0, 1e-9, 0, 1e-9];
    logits.forEach((z, i) => {
      const p = sigmoid(a * z + b);
      const [d, w] = [p - targets[i]!, p * (1 - p)];
      ga += d * z;
      gb += d;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    });
    const det = haa * hbb - hab * hab;
    a -= (hbb * ga - hab * gb) / det;
    b -= (haa * gb - hab * ga) / det;
  }
  return { a, b };
}

export interface Operating {
  threshold: number;
  arenaToTools: number;
  recall: number;
  accuracy: number;
}

/** The cascade as shipped (rules first, then the classifier) at each threshold; the rows' scores are calibrated p(tools). */
function operatingPoints(rows: LabelledPrompt[], pTools: number[]): Operating[] {
  const ruled = rows.map((row) => !isAbstention(applyRules(row.prompt)));
  const points: Operating[] = [];
  for (let t = 0.5; t < 0.995; t += 0.01) {
    const threshold = Math.round(t * 100) / 100;
    const predicted = rows.map((_, i) => ruled[i]! || pTools[i]! >= threshold);
    const arena = rows.filter((row) => row.label === 'arena').length;
    const tools = rows.length - arena;
    const falseTools = rows.filter((row, i) => row.label === 'arena' && predicted[i]).length;
    const foundTools = rows.filter((row, i) => row.label === 'tools' && predicted[i]).length;
    const correct = rows.filter((row, i) => predicted[i] === (row.label === 'tools')).length;
    points.push({ threshold, arenaToTools: falseTools / arena, recall: foundTools / tools, accuracy: correct / rows.length });
  }
  return points;
}

/**
 * The product's priority, explicitly: a prompt wrongly taken out of the blind duel costs more than
 * a tools prompt left in it. So: the threshold with the highest tools recall among those that keep
 * arena→tools ≤ MAX_ARENA_TO_TOOLS on validation; ties go to the higher threshold (arena when
 * unsure). The operating point is `feasible` only if that recall is also ≥ MIN_TOOLS_RECALL; if no
 * threshold keeps the arena→tools bound, the highest one (the fewest prompts sent to tools) is kept.
 */
export function chooseThreshold(points: Operating[]): Operating & { feasible: boolean } {
  const bounded = points.filter((p) => p.arenaToTools <= MAX_ARENA_TO_TOOLS);
  const pool = bounded.length ? bounded : points.slice(-1);
  const best = pool.reduce((a, p) => (p.recall > a.recall || (p.recall === a.recall && p.threshold > a.threshold) ? p : a));
  return { ...best, feasible: bounded.length > 0 && best.recall >= MIN_TOOLS_RECALL };
}

/** Lexicographic comparison of two rankings. */
const compare = (a: number[], b: number[]): number => a.map((x, i) => x - b[i]!).find((d) => d !== 0) ?? 0;

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

export interface TrainOptions {
  /** L2 strengths to try; the one best on validation is kept. */
  l2Candidates?: number[];
  log?: (line: string) => void;
}

export function train(rows: LabelledPrompt[] = readCorpus(), opts: TrainOptions = {}): ClassifierModel {
  const log = opts.log ?? console.log;
  const trainRows = rows.filter((row) => row.split === 'train');
  const validation = rows.filter((row) => row.split === 'validation');
  const examples = trainRows.map((row) => ({ x: vectorise(row.prompt, BUCKETS), y: row.label === 'tools' ? 1 : 0 }));
  log(`train ${trainRows.length} prompts, validation ${validation.length} prompts (test split not read)`);
  let best: { model: ClassifierModel; point: ReturnType<typeof chooseThreshold>; l2: number } | undefined;
  for (const l2 of opts.l2Candidates ?? L2_CANDIDATES) {
    const { bias, weights } = fit(examples, l2);
    const raw: ClassifierModel = {
      featureVersion: FEATURE_VERSION,
      buckets: BUCKETS,
      bias: round(bias, 4),
      weights: [...weights].map((w) => round(w, 4)),
      calibration: { a: 1, b: 0 },
      thresholds: { tools: 0.5, arena: ARENA_THRESHOLD },
      training: { l2, iterations: ITERATIONS, trainPrompts: trainRows.length, validationPrompts: validation.length },
    };
    const logits = validation.map((row) => rawLogit(row.prompt, raw));
    const calibration = plattScale(logits, validation.map((row) => (row.label === 'tools' ? 1 : 0)));
    const model = { ...raw, calibration: { a: round(calibration.a, 4), b: round(calibration.b, 4) } };
    const point = chooseThreshold(operatingPoints(validation, logits.map((z) => calibrated(z, model))));
    log(`  L2 ${l2}: validation at p(tools) ≥ ${point.threshold}: accuracy ${pct(point.accuracy)}, arena→tools ${pct(point.arenaToTools)}, tools recall ${pct(point.recall)}${point.feasible ? '' : ' (recall below the 90 % required)'}`);
    // Between L2 strengths the same priority: a feasible point first, then the higher recall, then the higher accuracy.
    const rank = (p: typeof point) => [p.feasible ? 1 : 0, p.recall, p.accuracy];
    const better = !best || compare(rank(point), rank(best.point)) > 0;
    if (better) best = { model: { ...model, thresholds: { tools: point.threshold, arena: Math.min(ARENA_THRESHOLD, point.threshold) } }, point, l2 };
  }
  if (!best!.point.feasible) log(`WARNING: no threshold reaches tools recall ≥ ${MIN_TOOLS_RECALL * 100} % with arena→tools ≤ ${MAX_ARENA_TO_TOOLS * 100} % on validation`);
  log(`chosen: L2 ${best!.l2}, tools threshold ${best!.point.threshold}, calibration a=${best!.model.calibration.a} b=${best!.model.calibration.b}`);
  return best!.model;
}

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function main(): void {
  const model = train();
  writeFileSync(WEIGHTS_FILE, `${JSON.stringify(model)}\n`);
  console.log(`wrote ${WEIGHTS_FILE}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
