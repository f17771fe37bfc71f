import { Rng } from '../random.js';

/** 53-bit string hash (cyrb53): stable across runs and platforms, so answers are reproducible. */
export function hashString(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A short stable hex id derived from text (tool call ids). */
export function hexId(text: string): string {
  return hashString(text).toString(16).padStart(8, '0').slice(-8);
}

export { Rng } from '../random.js';

/** The shared seeded PRNG (server/random.ts); a zero seed counts as 1, as it always has here. */
export function createRng(seed: number): Rng {
  return new Rng(seed >>> 0 || 1);
}
