import { fnv1a } from './hash.js';

/**
 * Where Arena's data lives in Redis.
 *
 * Single Redis (the default): `<prefix><kind>:<battle id>` per battle, and one key per global
 * structure (`<prefix>votes`, `<prefix>streaming`), exactly as before cluster mode existed.
 *
 * Redis Cluster: every key of a battle carries the battle's hash tag (`<prefix><kind>:{<id>}`),
 * so its record, vote marker, event log, lease, epoch and crowd tally share one slot and every
 * script or pipeline of one battle stays on one node. Nothing ever spans battles. A global
 * structure is split into `buckets` keys with tags of their own (`<prefix>votes:{votes.3}`),
 * a battle always landing in the same bucket; readers merge the buckets.
 */
export interface RedisLayout {
  readonly prefix: string;
  readonly tagged: boolean;
  readonly buckets: number;
  /** A key of one battle (`kind`: battle, voted, log, lease, epoch, crowd, …). */
  battle(kind: string, id: string): string;
  /** The battle id in a key made by `battle(kind, …)` (a prefix may carry a hash tag of its own). */
  battleIdOf(kind: string, key: string): string;
  /** Bucket `k` of a global structure. */
  bucket(name: string, k: number): string;
  /** Every bucket of a global structure, in bucket order. */
  allBuckets(name: string): string[];
  /** The bucket a battle's entries in global structures go to. */
  bucketOf(id: string): number;
}

export const DEFAULT_CLUSTER_BUCKETS = 16;

export function redisLayout(prefix: string, cluster: boolean, buckets = DEFAULT_CLUSTER_BUCKETS): RedisLayout {
  const n = cluster ? Math.max(1, buckets) : 1;
  const layout: RedisLayout = {
    prefix,
    tagged: cluster,
    buckets: n,
    battle: cluster ? (kind, id) => `${prefix}${kind}:{${id}}` : (kind, id) => `${prefix}${kind}:${id}`,
    battleIdOf: (kind, key) => (cluster ? key.slice(`${prefix}${kind}:{`.length, -1) : key.slice(`${prefix}${kind}:`.length)),
    bucket: cluster ? (name, k) => `${prefix}${name}:{${name}.${k}}` : (name) => `${prefix}${name}`,
    allBuckets: (name) => Array.from({ length: n }, (_, k) => layout.bucket(name, k)),
    bucketOf: n === 1 ? () => 0 : (id) => fnv1a(id) % n,
  };
  return layout;
}
