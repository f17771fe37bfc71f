import type { z } from 'zod';

/**
 * "Did you mean": every key path the schema accepts (arrays as `[]`), and the one nearest to a
 * key it does not. A key valid elsewhere (arena.battlesPerMinute → limits.battlesPerMinute)
 * counts as near as a typo among its siblings (limits.battlesPerMinutes → limits.battlesPerMinute).
 */
export function knownKeyPaths(schema: z.ZodType): string[] {
  const paths: string[] = [];
  walk(schema, '', paths);
  return paths;
}

/** `parent` is the zod issue path of the object holding the unknown `key` (indices included). */
export function nearestKey(paths: string[], parent: readonly PropertyKey[], key: string): { path: string; siblings: string[] } | undefined {
  const parentPattern = parent.map((p) => (typeof p === 'number' ? '[]' : `.${String(p)}`)).join('').replace(/^\./, '');
  const siblings = paths.filter((p) => parentOf(p) === parentPattern).map(leafOf);
  let best: { path: string; score: number } | undefined;
  for (const path of paths) {
    const sibling = parentOf(path) === parentPattern;
    // A sibling is preferred: the same place is the likelier intent.
    const score = distance(key.toLowerCase(), leafOf(path).toLowerCase()) + (sibling ? 0 : 1.5);
    if (!best || score < best.score) best = { path, score };
  }
  if (!best || best.score > Math.max(2, key.length / 3)) return siblings.length ? { path: '', siblings } : undefined;
  return { path: withIndices(best.path, parent), siblings };
}

function walk(schema: z.ZodType, prefix: string, out: string[]): void {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        const path = prefix ? `${prefix}.${key}` : key;
        out.push(path);
        walk(child, path, out);
      }
      return;
    case 'array':
      return walk(def.element as z.ZodType, `${prefix}[]`, out);
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
      return walk(def.innerType as z.ZodType, prefix, out);
    case 'pipe':
      return walk(def.in as z.ZodType, prefix, out);
  }
}

function parentOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? '' : path.slice(0, dot);
}

function leafOf(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/** `backends[].url` with the indices of the path, when the suggestion is under the same array. */
function withIndices(path: string, parent: readonly PropertyKey[]): string {
  let out = path;
  for (const index of parent.filter((p) => typeof p === 'number')) out = out.replace('[]', `[${index}]`);
  return out;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
