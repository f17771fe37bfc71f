import { pairKey } from '../rating/pairing.js';

/** "Next >" cycling: every pair of models once per prompt, then around again. */

export { pairKey };

export function allPairs(models: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < models.length; i++) for (let j = i + 1; j < models.length; j++) pairs.push([models[i], models[j]]);
  return pairs;
}

/** The pairs not yet seen for this prompt; when all are seen the cycle starts over. */
export function unseenPairs(models: string[], seen: string[]): { pairs: [string, string][]; restarted: boolean } {
  const seenSet = new Set(seen);
  const pairs = allPairs(models).filter(([a, b]) => !seenSet.has(pairKey(a, b)));
  if (pairs.length > 0) return { pairs, restarted: false };
  return { pairs: allPairs(models), restarted: true };
}
