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

/** Logistic regression weights: p(tools) = sigmoid(bias + sum of the weights of the prompt's features). */
export interface ClassifierModel {
  bias: number;
  weights: Readonly<Record<string, number>>;
}
