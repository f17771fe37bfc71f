import weightsFile from './classifier-weights.json' with { type: 'json' };
import { bucketOf, FEATURE_VERSION, featureStrings, vectorise } from './features.js';
import type { ClassifierModel, LayerVerdict } from './types.js';

/**
 * The built-in classifier: calibrated logistic regression over hashed character n-grams
 * (features.ts). The weights are data (classifier-weights.json), trained by
 * scripts/router-train.ts on the train split of tests/fixtures/router/prompts.jsonl; calibration
 * and thresholds come from the validation split. Tools only above the tools threshold: a misroute
 * takes a prompt out of the duel, so between the thresholds the layer abstains (arena by default).
 */

export const CLASSIFIER_MODEL = loadModel(weightsFile as unknown as ClassifierModel);

function loadModel(model: ClassifierModel): ClassifierModel {
  if (model.featureVersion !== FEATURE_VERSION || model.weights.length !== model.buckets)
    throw new Error(`classifier-weights.json does not match features.ts (version ${model.featureVersion}, expected ${FEATURE_VERSION}): rerun scripts/router-train.ts`);
  return model;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface ClassifierScore {
  /** Calibrated probability that the prompt needs tools. */
  pTools: number;
  /** The features that pushed hardest towards the winning side, strongest first. */
  cues: string[];
}

/** The uncalibrated score: bias plus the weighted features. */
export function rawLogit(prompt: string, model: ClassifierModel = CLASSIFIER_MODEL): number {
  const { indexes, values } = vectorise(prompt, model.buckets);
  return indexes.reduce((sum, index, i) => sum + model.weights[index]! * values[i]!, model.bias);
}

export function calibrated(logit: number, model: ClassifierModel = CLASSIFIER_MODEL): number {
  return sigmoid(model.calibration.a * logit + model.calibration.b);
}

export function scorePrompt(prompt: string, model: ClassifierModel = CLASSIFIER_MODEL): ClassifierScore {
  const pTools = calibrated(rawLogit(prompt, model), model);
  return { pTools, cues: cuesOf(prompt, model, pTools >= 0.5 ? 1 : -1) };
}

/** The three readable features (n-grams shown without their prefix) that pulled most towards `direction`. */
function cuesOf(prompt: string, model: ClassifierModel, direction: 1 | -1): string[] {
  const byBucket = new Map<number, string>();
  // Single characters and bigrams explain little to a reader; words, longer n-grams and cue groups do.
  for (const feature of featureStrings(prompt).filter((f) => f.slice(2).trim().length >= 3)) {
    const bucket = bucketOf(feature, model.buckets);
    if (!byBucket.has(bucket)) byBucket.set(bucket, feature.startsWith('g:') ? `[${feature.slice(2)}]` : feature.slice(2).trim());
  }
  const ranked = [...byBucket]
    .filter(([bucket]) => model.weights[bucket]! * direction > 0)
    .sort((a, b) => Math.abs(model.weights[b[0]]!) - Math.abs(model.weights[a[0]]!))
    .map(([, text]) => text);
  return [...new Set(ranked)].slice(0, 3);
}

export function classify(prompt: string, thresholds = CLASSIFIER_MODEL.thresholds): LayerVerdict {
  const { pTools, cues } = scorePrompt(prompt);
  const summary = `p(tools)=${pTools.toFixed(2)}${cues.length ? `, cues: ${cues.map((cue) => `"${cue}"`).join(', ')}` : ''}`;
  if (pTools >= thresholds.tools) return { route: 'tools', layer: 'classifier', reason: `classifier ${summary}`, confidence: pTools };
  if (pTools <= thresholds.arena) return { route: 'arena', layer: 'classifier', reason: `classifier ${summary}`, confidence: 1 - pTools };
  return { abstain: true, layer: 'classifier', reason: `classifier unsure (${summary}, tools needs ${thresholds.tools.toFixed(2)})`, arenaConfidence: 1 - pTools };
}
