import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.js';
import { redisTarget } from '../../server/infra/redis.js';
import { redisLayout } from '../../server/infra/redis-layout.js';

describe('Redis key layout', () => {
  it('keeps the single-Redis names exactly as before', () => {
    const l = redisLayout('arena:', false);
    expect([l.battle('battle', 'b1'), l.battle('log', 'b1'), l.bucket('votes', 0), l.allBuckets('streaming')]).toEqual(['arena:battle:b1', 'arena:log:b1', 'arena:votes', ['arena:streaming']]);
    expect(l.bucketOf('anything')).toBe(0);
  });

  it('tags every key of a battle with its id on a cluster, and buckets global structures', () => {
    const l = redisLayout('arena:', true, 16);
    expect(['battle', 'voted', 'log', 'lease', 'epoch', 'crowd'].map((k) => l.battle(k, 'b1'))).toEqual(
      ['battle', 'voted', 'log', 'lease', 'epoch', 'crowd'].map((k) => `arena:${k}:{b1}`),
    );
    expect(l.allBuckets('votes')).toHaveLength(16);
    expect(l.bucket('votes', 3)).toBe('arena:votes:{votes.3}');
    const k = l.bucketOf('b1');
    expect(k).toBe(l.bucketOf('b1'));
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThan(16);
  });

  it('reads the battle id back from a key, a hash-tagged prefix included', () => {
    for (const [prefix, cluster] of [['arena:', false], ['arena:', true], ['{arena}:', true], ['{arena}:', false]] as const) {
      const l = redisLayout(prefix, cluster);
      expect(l.battleIdOf('vote-unindexed', l.battle('vote-unindexed', 'b1:x{y}')), `${prefix} ${cluster}`).toBe('b1:x{y}');
    }
  });
});

describe('Redis target from config', () => {
  it('takes a seed list as a cluster, one URL as a single Redis unless told otherwise', () => {
    expect(redisTarget('redis://a:1,redis://b:2')).toMatchObject({ urls: ['redis://a:1', 'redis://b:2'], cluster: true });
    expect(redisTarget('redis://a:1')).toMatchObject({ cluster: false });
    expect(redisTarget('rediss://cfg.example:6379', { cluster: true })).toMatchObject({ cluster: true });
  });

  it('accepts seed lists, cluster keys and hash-tagged prefixes; refuses a bad seed', () => {
    const { config } = loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:7100, redis://127.0.0.1:7101', REDIS_CLUSTER: 'true', REDIS_PREFIX: '{arena}:' } });
    expect(config).toMatchObject({ redisCluster: true, redisPrefix: '{arena}:', redisClusterBuckets: 16 });
    expect(() => loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:7100,http://x' } })).toThrow(/redis:\/\/ or rediss:\/\/ URL/);
  });
});
