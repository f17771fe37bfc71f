/**
 * What the classifier sees of a prompt, in any language and script: character n-grams (1 to 4)
 * of a normalised text plus its words, hashed into a fixed number of buckets. Character n-grams
 * need no tokeniser (Chinese and Japanese have no spaces) and survive typos and missing accents.
 * Cue groups (lexicon.ts) add features shared by all languages. Every digit becomes 0, so "2024" and "1987" look alike while "12 000" and "3/8" keep their shape.
 * Training and inference share this file: a change here means retraining (scripts/router-train.ts).
 */

import { lexiconFeatures } from './lexicon.js';
import { fnv1a } from '../infra/hash.js';

export const FEATURE_VERSION = 3;
const MIN_NGRAM = 1;
const MAX_NGRAM = 4;
/** Long pasted context adds little once the request is seen; capping keeps scoring cheap. */
export const MAX_FEATURE_CHARS = 4_000;

/** Lower case, accents off Latin letters (users often skip them), digits to 0, runs of space to one. */
export function normalise(prompt: string): string {
  return prompt
    .slice(0, MAX_FEATURE_CHARS)
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/([a-z])\p{M}+/gu, '$1')
    .normalize('NFC')
    .replace(/['’`]/g, '')
    .replace(/\d/g, '0')
    .replace(/\s+/g, ' ')
    .trim();
}

// FNV-1a: stable across runs and platforms, which the shipped weights rely on.
export const bucketOf = (feature: string, buckets: number): number => fnv1a(feature) % buckets;

/** The distinct feature strings of a prompt (for explanations and tests). */
export function featureStrings(prompt: string): string[] {
  const text = ` ${normalise(prompt)} `;
  const chars = [...text];
  const features = new Set<string>();
  for (let n = MIN_NGRAM; n <= MAX_NGRAM; n++) for (let i = 0; i + n <= chars.length; i++) features.add(`c:${chars.slice(i, i + n).join('')}`);
  for (const word of text.split(/[^\p{L}\p{N}]+/u)) if (word) features.add(`w:${word}`);
  for (const feature of lexiconFeatures(text.trim())) features.add(feature);
  return [...features];
}

/** Bucket indexes with values, L2-normalised so long prompts weigh no more than short ones. */
export interface SparseVector {
  indexes: number[];
  values: number[];
}

/** Cue-group features (lexicon.ts) keep this fixed value whatever the prompt's length. */
const GROUP_VALUE = 0.5;

export function vectorise(prompt: string, buckets: number): SparseVector {
  const counts = new Map<number, number>();
  for (const feature of featureStrings(prompt)) {
    if (feature.startsWith('g:')) continue;
    const bucket = bucketOf(feature, buckets);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  const norm = Math.sqrt([...counts.values()].reduce((sum, count) => sum + count * count, 0)) || 1;
  const values = new Map([...counts].map(([bucket, count]) => [bucket, count / norm]));
  for (const feature of lexiconFeatures(normalise(prompt))) {
    const bucket = bucketOf(feature, buckets);
    values.set(bucket, (values.get(bucket) ?? 0) + GROUP_VALUE);
  }
  return { indexes: [...values.keys()], values: [...values.values()] };
}
