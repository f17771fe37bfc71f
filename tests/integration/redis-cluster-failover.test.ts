import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { openRedisStore } from '../../server/store/redis.js';
import { recordProcessFaults, type FaultRecorder } from '../helpers/faults.js';
import { eventually, ok, recordFrames, startTestArena, TEST_MODELS, shareOf, type TestArena } from '../helpers/arena.js';

/**
 * Redis Cluster mode under churn: a live battle's slot is migrated to another master and a master
 * is failed over to its replica (CLUSTER FAILOVER) while duels stream across two instances, and
 * another failover runs while the votes are cast. No token and no acknowledged vote may be lost.
 * Its own 3+3 cluster (ports 7110-7115: scripts/redis-cluster.sh), so the churn never disturbs
 * the other tests' cluster.
 */
const BASE_PORT = '7110';
const BATTLES = 6;
const MODELS = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 40, maxTokens: 120 }));
const clusterScript = (cmd: string) =>
  execFileSync('bash', ['scripts/redis-cluster.sh', cmd], { env: { ...process.env, REDIS_CLUSTER_BASE_PORT: BASE_PORT }, encoding: 'utf8' }).trim();

interface Node {
  id: string;
  port: number;
  master: boolean;
  masterId: string;
  slots: [number, number][];
}

async function nodes(): Promise<Node[]> {
  const probe = new Redis(Number(BASE_PORT));
  const text = String(await probe.cluster('NODES'));
  probe.disconnect();
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, masterId, , , , , ...slots] = line.split(' ');
      return {
        id,
        port: Number(addr.split(':')[1].split('@')[0]),
        master: flags.includes('master') && !flags.includes('fail'),
        masterId,
        slots: slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number) as [number, number]).map(([a, b]) => [a, b ?? a] as [number, number]),
      };
    });
}

async function slotOf(battleId: string): Promise<number> {
  const probe = new Redis(Number(BASE_PORT));
  const slot = Number(await probe.cluster('KEYSLOT', `{${battleId}}`));
  probe.disconnect();
  return slot;
}

const ownerOf = (all: Node[], slot: number) => all.find((n) => n.master && n.slots.some(([a, b]) => slot >= a && slot <= b))!;

/** Moves one slot (with its keys, while they are being written) to another master. */
async function migrateSlot(slot: number): Promise<void> {
  const all = await nodes();
  const source = ownerOf(all, slot);
  const target = all.find((n) => n.master && n.id !== source.id)!;
  const [src, dst] = [new Redis(source.port), new Redis(target.port)];
  await dst.cluster('SETSLOT', slot, 'IMPORTING', source.id);
  await src.cluster('SETSLOT', slot, 'MIGRATING', target.id);
  for (;;) {
    const keys = (await src.cluster('GETKEYSINSLOT', slot, 100)) as string[];
    if (keys.length === 0) break;
    await src.migrate('127.0.0.1', target.port, '', 0, 5_000, 'KEYS', ...keys);
  }
  for (const n of all.filter((x) => x.master)) {
    const c = new Redis(n.port);
    await c.cluster('SETSLOT', slot, 'NODE', target.id);
    c.disconnect();
  }
  src.disconnect();
  dst.disconnect();
}

/** Fails the master owning `slot` over to its replica (coordinated, no write lost). */
async function failover(slot: number): Promise<void> {
  const all = await nodes();
  const master = ownerOf(all, slot);
  const replica = all.find((n) => !n.master && n.masterId === master.id)!;
  const c = new Redis(replica.port);
  try {
    await c.cluster('FAILOVER');
    await eventually(async () => expect(await c.info('replication')).toMatch(/role:master/));
  } finally {
    c.disconnect();
  }
}

describe('Redis Cluster: resharding and failover during streaming duels', () => {
  const prefix = `churn:${randomUUID()}:`;
  let seeds: string;
  let sim: Simulator;
  let a: TestArena;
  let b: TestArena;
  let faults: FaultRecorder;

  beforeAll(async () => {
    faults = recordProcessFaults();
    seeds = clusterScript('start');
    sim = await startSimulator({ flavor: 'ollama', models: MODELS, preloaded: true });
    const config = { redisUrl: seeds, redisPrefix: prefix, limits: { battlesPerMinute: 1000, promptsPerMinutePerIp: 1000, votesPerMinute: 1000 }, logLevel: process.env.CHURN_LOG ?? 'silent' };
    a = await startTestArena({ sim, config });
    b = await startTestArena({ sim, config });
  }, 90_000);
  afterAll(async () => {
    faults?.stop();
    await a?.close();
    await b?.close();
    await sim?.close();
    clusterScript('stop');
  }, 30_000);

  it('loses no token and no acknowledged vote', async () => {
    // Ready means the layout works: a hash-tagged round trip and cluster_state:ok.
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).checks.store).toMatchObject({ ok: true, detail: 'redis' });
    const duels = await Promise.all(
      Array.from({ length: BATTLES }, async (_, i) => {
        const owner = await a.client();
        const ownerFrames = recordFrames(owner);
        const { battle } = await ok(owner, 'battle:start', { prompt: `Churn ${i}` });
        await ownerFrames.until(() => ownerFrames.events(battle.id).some((e) => e.t === 'delta'));
        const spectator = await b.client();
        const spectatorFrames = recordFrames(spectator);
        const joined = await ok(spectator, 'watch:join', shareOf(battle));
        return { owner, ownerFrames, spectator, spectatorFrames, battle, joinedSeq: joined.battle.seq };
      }),
    );
    // Mid-stream: move battle 0's slot to another master, then fail battle 1's master over.
    await migrateSlot(await slotOf(duels[0].battle.id));
    await failover(await slotOf(duels[1].battle.id));

    for (const d of duels) await d.ownerFrames.settled(d.battle.id);
    // Votes while battle 2's master fails over.
    const voting = Promise.all(duels.map((d) => ok(d.owner, 'battle:vote', { battleId: d.battle.id, choice: 'left' })));
    await failover(await slotOf(duels[2].battle.id));
    const acks = await voting;
    expect(acks).toHaveLength(BATTLES);

    for (const d of duels) {
      // The owner got every seq exactly once, in order.
      const seqs = d.ownerFrames.events(d.battle.id).map((e) => e.seq);
      const last = seqs.at(-1)!;
      expect(seqs).toEqual(Array.from({ length: last - seqs[0] + 1 }, (_, k) => seqs[0] + k));
      // The spectator on the other instance got every seq after its view.
      // Frames published while a room's subscription moved node arrive by the catch-up from the
      // log that follows each topology change (a UI client would also resume by seq on a gap).
      const missing = () => {
        const got = new Set(d.spectatorFrames.events(d.battle.id).map((e) => e.seq));
        const gaps = [];
        for (let s = d.joinedSeq + 1; s <= last; s++) if (!got.has(s)) gaps.push(s);
        return gaps;
      };
      await d.spectatorFrames.until(() => missing().length === 0, 12_000).catch(() => undefined);
      expect(missing()).toEqual([]);
      // A late viewer on B reads the same answers from the stored log and record.
      const late = await b.client();
      const view = await ok(late, 'watch:join', shareOf(d.battle));
      expect(view.battle.turns[0].answers.left.text).toBe(d.ownerFrames.text(d.battle.id, 'left'));
      expect(view.battle.turns[0].answers.right.text).toBe(d.ownerFrames.text(d.battle.id, 'right'));
      late.close();
      d.owner.close();
      d.spectator.close();
    }

    // Every acknowledged vote is stored exactly once and reaches the leaderboard.
    const store = openRedisStore({ url: seeds, prefix });
    const votes = await store.listVotes();
    expect(votes.map((v) => v.battleId).sort()).toEqual(duels.map((d) => d.battle.id).sort());
    await store.close();
    const after = await a.client();
    await eventually(async () => {
      const { board } = await ok(after, 'leaderboard:subscribe', { excludeTies: false, category: 'overall' });
      expect(board.totalVotes).toBe(BATTLES);
    });
    after.close();
    // Sharded (un)subscriptions moving between nodes never surface as process faults.
    expect(faults.messages).toEqual([]);
    expect(await faults.count(a.arena)).toBe(0);
  }, 150_000);
});
