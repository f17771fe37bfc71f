import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisCluster } from '../../server/cluster/redis-cluster.js';
import { silentLogger } from '../../server/infra/log.js';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import { waitFor } from '../helpers/arena.js';
import { deleteRedisKeys, testRedis } from '../helpers/redis-keys.js';

const delta = (seq: number, text: string): SeqEvent => ({ seq, t: 'delta', side: 'left', turn: 0, text });

describe('lease epochs fence the battle log', () => {
  const prefix = `lease:${randomUUID()}:`;
  const clients: (Redis | Cluster)[] = [];
  const cluster = (instanceId: string) => {
    const redis = testRedis();
    clients.push(redis);
    return new RedisCluster({ redis, prefix, instanceId, logger: silentLogger, leaseMs: 300 });
  };
  afterAll(async () => {
    await deleteRedisKeys(prefix);
    clients.forEach((c) => c.disconnect());
  });

  it('a holder whose lease was taken over cannot append or release; the new holder can, once per seq', async () => {
    const a = cluster('instance-a');
    const b = cluster('instance-b');
    const lostByA: string[] = [];
    a.startHeartbeat(() => [], (id) => lostByA.push(id)); // renews nothing: A is "silent"
    const battle = randomUUID();

    expect(await a.acquire(battle)).toBe(true);
    expect(await b.acquire(battle)).toBe(false);
    await a.appendLog(battle, [delta(1, 'a1')]);
    await new Promise((r) => setTimeout(r, 400)); // A's lease expires unrenewed
    expect(await b.acquire(battle)).toBe(true);
    expect(await b.acquire(battle)).toBe(true); // re-acquiring keeps B's epoch

    // A still believes it holds the battle: its append (same seq space) is refused atomically.
    await a.appendLog(battle, [delta(2, 'stale a2'), delta(3, 'stale a3')]);
    await waitFor(() => lostByA.includes(battle), 2_000, 'A told it lost the battle');
    await b.appendLog(battle, [delta(2, 'b2')]);
    await b.appendLog(battle, [delta(2, 'b2 again')]); // a retried seq is skipped, not overwritten
    expect((await b.readLog(battle, 0)).map((e) => (e.t === 'delta' ? e.text : ''))).toEqual(['a1', 'b2']);

    // A's release must not free B's lease.
    await a.release(battle, false);
    expect(await a.acquire(battle)).toBe(false);
    await a.close();
    await b.close();
  });
});
