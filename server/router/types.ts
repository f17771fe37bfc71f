/** Where a prompt goes: two blind models side by side, or one tool-calling model. */
export type Route = 'arena' | 'tools';

/** `auto` lets the router decide; the others are the user's toggle. */
export type RouteMode = 'auto' | Route;

/** The layers of the cascade, cheapest first. */
export type RouteLayer = 'explicit' | 'rules' | 'classifier' | 'llm';

export interface RouteDecision {
  route: Route;
  /** The layer that decided (for a default after every layer abstained: the last one asked). */
  layer: RouteLayer;
  /** Human readable: which rule, which cues, what the model said. */
  reason: string;
  /** 0..1. */
  confidence: number;
}

/** A layer that declines to decide, and why. */
export interface Abstention {
  abstain: true;
  layer: RouteLayer;
  reason: string;
  /** How sure the layer leans towards arena when it has an opinion (the classifier's probability). */
  arenaConfidence?: number;
}

export type LayerVerdict = RouteDecision | Abstention;

export function isAbstention(verdict: LayerVerdict): verdict is Abstention {
  return 'abstain' in verdict;
}

/**
 * The classifier's data file (classifier-weights.json, written by scripts/router-train.ts):
 * logistic regression over hashed features, then Platt calibration, then the thresholds chosen
 * on the validation split. p(tools) = sigmoid(a * (bias + w·x) + b).
 */
export interface ClassifierModel {
  featureVersion: number;
  buckets: number;
  bias: number;
  /** One weight per bucket. */
  weights: readonly number[];
  calibration: { a: number; b: number };
  /** Calibrated p(tools) at or above `tools` routes to tools; at or below `arena` to the arena; between, the layer abstains. */
  thresholds: { tools: number; arena: number };
  /** How it was trained, so that a rerun can be checked against it. */
  training?: { l2: number; iterations: number; trainPrompts: number; validationPrompts: number };
}
