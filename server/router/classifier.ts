import { CLASSIFIER_MODEL } from './classifier-model.js';
import { promptFeatures } from './features.js';
import type { ClassifierModel, LayerVerdict } from './types.js';

/**
 * The built-in classifier: logistic regression over word n-gram features (features.ts), weights
 * trained by training/train.ts on training/prompts.jsonl. Below `threshold` confidence either way
 * it abstains.
 */

export const DEFAULT_CLASSIFIER_THRESHOLD = 0.7;

export interface ClassifierScore {
  /** Probability that the prompt needs tools. */
  pTools: number;
  /** The features that pushed hardest towards the winning side, strongest first. */
  cues: string[];
}

export function scorePrompt(prompt: string, model: ClassifierModel = CLASSIFIER_MODEL): ClassifierScore {
  const contributions = promptFeatures(prompt)
    .map((feature) => [feature, model.weights[feature] ?? 0] as const)
    .filter(([, weight]) => weight !== 0);
  const logit = contributions.reduce((sum, [, weight]) => sum + weight, model.bias);
  const pTools = 1 / (1 + Math.exp(-logit));
  const direction = pTools >= 0.5 ? 1 : -1;
  const cues = contributions
    .filter(([, weight]) => weight * direction > 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, 3)
    .map(([feature]) => feature);
  return { pTools, cues };
}

export function classify(prompt: string, threshold = DEFAULT_CLASSIFIER_THRESHOLD): LayerVerdict {
  const { pTools, cues } = scorePrompt(prompt);
  const route = pTools >= 0.5 ? 'tools' : 'arena';
  const confidence = route === 'tools' ? pTools : 1 - pTools;
  const summary = `p(tools)=${pTools.toFixed(2)}${cues.length ? `, cues: ${cues.map((cue) => `"${cue}"`).join(', ')}` : ''}`;
  if (confidence < threshold) return { abstain: true, layer: 'classifier', reason: `classifier unsure (${summary})`, arenaConfidence: 1 - pTools };
  return { route, layer: 'classifier', reason: `classifier ${summary}`, confidence };
}
