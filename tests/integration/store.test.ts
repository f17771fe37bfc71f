import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/infra/log.js';
import { openStore } from '../../server/store/index.js';
import { openRedisStore } from '../../server/store/redis.js';
import { defineArenaScripts } from '../../server/store/redis-scripts.js';
import { SCHEMA_VERSION } from '../../server/store/sqlite-migrations.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { BattleRecord, BoardSnapshot, SessionRecord, Store, VoteRecord } from '../../server/store/types.js';
import { voteRecordFor } from '../../server/store/vote-record.js';
import { deleteRedisKeys, keysWithPrefix, REDIS_CLUSTER_SEEDS, REDIS_IS_CLUSTER, REDIS_URL, testRedis } from '../helpers/redis-keys.js';


/** Where one test's data lives; every store opened from it sees the same data. */
interface Backing {
  open(): Store;
  destroy(): Promise<void>;
}

function sqliteBacking(): Backing & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'arena-store-'));
  return { dir, open: () => openSqliteStore({ dir }), destroy: async () => rmSync(dir, { recursive: true, force: true }) };
}

function redisBacking(): Backing & { prefix: string } {
  const prefix = `test:${randomUUID()}:`;
  return { prefix, open: () => openRedisStore({ url: REDIS_URL, prefix }), destroy: () => deleteRedisKeys(prefix) };
}


let counter = 0;
function makeBattle(overrides: Partial<BattleRecord> = {}): BattleRecord {
  counter += 1;
  return {
    id: `b${counter}-${randomUUID().slice(0, 8)}`,
    sessionHash: 'judge-hash',
    createdAt: 1_700_000_000_000 + counter,
    mode: 'arena',
    models: { left: 'llama3', right: 'qwen2' },
    systemPrompt: '',
    turns: [
      {
        prompt: 'Why is the sky blue?',
        startedAt: 1_700_000_000_500,
        answers: {
          left: { text: 'Rayleigh scattering.', reasoning: '', status: 'done', ttftMs: 120 },
          right: { text: 'Because of the ocean.', reasoning: '', status: 'done', deployment: 'gpu/qwen2' },
        },
      },
    ],
    leak: { left: false, right: false },
    watchToken: 'watch-token',
    ...overrides,
  };
}

function makeVote(battleId: string, tstamp: number): VoteRecord {
  return { battleId, modelLeft: 'a', modelRight: 'b', choice: 'tie', excluded: false, judge: 'imported', tstamp };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function describeStoreContract(name: string, createBacking: () => Backing): void {
  describe(`Store contract: ${name}`, () => {
    let backing: Backing;
    let store: Store;
    const extraStores: Store[] = [];

    /** A second handle on the same data, closed after the test. */
    const openAnother = (): Store => {
      const another = backing.open();
      extraStores.push(another);
      return another;
    };

    beforeEach(() => {
      backing = createBacking();
      store = backing.open();
    });

    afterEach(async () => {
      for (const another of extraStores.splice(0)) await another.close();
      await store.close();
      await backing.destroy();
    });

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('keeps one crowd vote per spectator per battle, tallied apart from votes', async () => {
      expect(await store.crowdTally('b1')).toEqual({ left: 0, right: 0, tie: 0, bothbad: 0 });
      expect(await store.recordCrowdVote('b1', 'viewer-1', 'left')).toBe('ok');
      expect(await store.recordCrowdVote('b1', 'viewer-1', 'right')).toBe('already_voted');
      expect(await openAnother().recordCrowdVote('b1', 'viewer-2', 'tie')).toBe('ok');
      expect(await store.recordCrowdVote('b2', 'viewer-1', 'bothbad')).toBe('ok');
      expect(await store.crowdTally('b1')).toEqual({ left: 1, right: 0, tie: 1, bothbad: 0 });
      expect(await store.listVotes()).toEqual([]);
    });

    it('round-trips sessions and upserts them', async () => {
      const session: SessionRecord = {
        hash: 'h1',
        createdAt: 1,
        seenPairs: { 'prompt-1': ['a|b'] },
        tournament: {
          id: 't1',
          prompt: 'p',
          queue: ['c', 'd'],
          champion: 'a',
          battleIds: [],
          wins: { a: 1 },
          eliminated: ['b'],
          done: false,
        },
      };
      expect(await store.getSession('h1')).toBeNull();
      await store.putSession(session);
      expect(await store.getSession('h1')).toEqual(session);
      await store.putSession({ ...session, currentBattleId: 'b9', tournament: undefined });
      expect(await store.getSession('h1')).toEqual({ hash: 'h1', createdAt: 1, seenPairs: session.seenPairs, currentBattleId: 'b9' });
    });

    it('round-trips battles, including empty arrays, and upserts them', async () => {
      const battle = makeBattle({ groupId: 'g1' });
      const empty = makeBattle({ turns: [] });
      expect(await store.getBattle(battle.id)).toBeNull();
      await store.putBattle(battle);
      await store.putBattle(empty);
      expect(await store.getBattle(battle.id)).toEqual(battle);
      expect(await store.getBattle(empty.id)).toEqual(empty);
      const longer = { ...battle, turns: [...battle.turns, { ...battle.turns[0], prompt: 'And at sunset?' }] };
      await store.putBattle(longer);
      expect(await store.getBattle(battle.id)).toEqual(longer);
    });

    it('records a vote once: ok, then already_voted; unknown battles are not_found', async () => {
      const battle = makeBattle({ leak: { left: true, right: false } });
      await store.putBattle(battle);

      expect(await store.recordVote(battle, 'left', 1_700_000_123_456)).toBe('ok');
      expect(await store.recordVote(battle, 'right', 1_700_000_200_000)).toBe('already_voted');
      expect(await store.recordVote(makeBattle(), 'tie', 1)).toBe('not_found');

      expect(await store.getBattle(battle.id)).toEqual({ ...battle, vote: { choice: 'left', at: 1_700_000_123_456 } });
      expect(await store.listVotes()).toEqual([voteRecordFor(battle, 'left', 1_700_000_123_456)]);
      expect((await store.listVotes())[0].excluded).toBe(true);
    });

    it('keeps the stored vote whatever putBattle is given', async () => {
      const voted = makeBattle();
      const unvoted = makeBattle();
      await store.putBattle(voted);
      await store.putBattle({ ...unvoted, vote: { choice: 'right', at: 5 } });
      await store.recordVote(voted, 'tie', 10);

      const laterTurn = { ...voted.turns[0], prompt: 'Follow-up' };
      await store.putBattle({ ...voted, turns: [...voted.turns, laterTurn], vote: { choice: 'left', at: 99 } });
      await store.putBattle({ ...voted, turns: [...voted.turns, laterTurn] });

      expect(await store.getBattle(voted.id)).toEqual({ ...voted, turns: [...voted.turns, laterTurn], vote: { choice: 'tie', at: 10 } });
      expect(await store.getBattle(unvoted.id)).toEqual(unvoted);
      expect(await store.recordVote(unvoted, 'left', 11)).toBe('ok');
    });

    it('lets exactly one of two store instances record a vote on the same battle', async () => {
      const other = openAnother();
      const battles = Array.from({ length: 10 }, () => makeBattle());
      for (const battle of battles) await store.putBattle(battle);

      const results = await Promise.all(
        battles.flatMap((battle) => [store.recordVote(battle, 'left', 1), other.recordVote(battle, 'right', 2)]),
      );

      for (let i = 0; i < battles.length; i++) {
        expect([results[2 * i], results[2 * i + 1]].sort()).toEqual(['already_voted', 'ok']);
      }
      const votes = await store.listVotes();
      expect(votes).toHaveLength(battles.length);
      for (const vote of votes) {
        const stored = await other.getBattle(vote.battleId);
        expect(stored?.vote).toEqual({ choice: vote.choice, at: vote.tstamp });
      }
    });

    it('lists votes in the order they were stored', async () => {
      const battles = Array.from({ length: 5 }, () => makeBattle());
      for (const battle of battles) await store.putBattle(battle);
      const order = [3, 0, 4, 1, 2];
      for (const i of order) await store.recordVote(battles[i], 'right', 1000 + i);

      expect((await store.listVotes()).map((vote) => vote.battleId)).toEqual(order.map((i) => battles[i].id));
    });

    it('lists voted battles in vote order, skipping unvoted battles and imported votes', async () => {
      const [first, unvoted, second] = [makeBattle(), makeBattle(), makeBattle({ turns: [] })];
      for (const battle of [first, unvoted, second]) await store.putBattle(battle);
      await store.recordVote(second, 'bothbad', 20);
      await store.importVotes([makeVote('imported-only', 25)]);
      await store.recordVote(first, 'left', 30);

      expect(await collect(store.listVotedBattles())).toEqual([
        { ...second, vote: { choice: 'bothbad', at: 20 } },
        { ...first, vote: { choice: 'left', at: 30 } },
      ]);
    });

    it('lists every battle, voted or not, across pages', async () => {
      const battles = Array.from({ length: 203 }, () => makeBattle());
      for (const battle of battles) await store.putBattle(battle);
      await store.recordVote(battles[7]!, 'left', 10);
      const listed = await collect(store.listBattles());
      expect(listed.map((battle) => battle.id).sort()).toEqual(battles.map((battle) => battle.id).sort());
      expect(listed.find((battle) => battle.id === battles[7]!.id)).toMatchObject({ vote: { choice: 'left' } });
    });

    it('pages through many votes and voted battles', async () => {
      const imported = Array.from({ length: 1_001 }, (_, i) => makeVote(`imported-${i}`, i));
      expect(await store.importVotes(imported)).toBe(imported.length);
      const battles = Array.from({ length: 201 }, () => makeBattle());
      for (const battle of battles) await store.putBattle(battle);
      for (const battle of battles) await store.recordVote(battle, 'left', 5_000);

      const votes = await store.listVotes();
      expect(votes.slice(0, imported.length)).toEqual(imported);
      expect(votes.slice(imported.length).map((vote) => vote.battleId)).toEqual(battles.map((b) => b.id));
      expect((await collect(store.listVotedBattles())).map((battle) => battle.id)).toEqual(battles.map((b) => b.id));
    });

    it('reads votes after a cursor: pages in store order, then only what was stored since, on any store instance', async () => {
      expect(await store.votesAfter(undefined, 10)).toEqual({ votes: [], cursor: undefined });
      const imported = Array.from({ length: 5 }, (_, i) => makeVote(`cursor-${i}`, i));
      await store.importVotes(imported);

      const first = await store.votesAfter(undefined, 3);
      expect(first.votes).toEqual(imported.slice(0, 3));
      const rest = await store.votesAfter(first.cursor, 3);
      expect(rest.votes).toEqual(imported.slice(3));
      expect(await store.votesAfter(rest.cursor, 3)).toEqual({ votes: [], cursor: rest.cursor });

      const battle = makeBattle();
      await store.putBattle(battle);
      await store.recordVote(battle, 'right', 9);
      // A cursor from one instance reads on at another over the same data (two Arena instances).
      expect((await openAnother().votesAfter(rest.cursor, 10)).votes).toEqual([voteRecordFor(battle, 'right', 9)]);
    });

    it('imports votes, skipping battle ids already voted or repeated in the batch', async () => {
      const battle = makeBattle();
      await store.putBattle(battle);
      await store.recordVote(battle, 'left', 1);

      const fresh = [makeVote('x', 2), makeVote('y', 3)];
      const added = await store.importVotes([makeVote(battle.id, 4), ...fresh, makeVote('x', 5)]);
      expect(added).toBe(2);
      expect(await store.importVotes(fresh)).toBe(0);
      expect(await store.importVotes([])).toBe(0);
      expect(await store.listVotes()).toEqual([voteRecordFor(battle, 'left', 1), ...fresh]);
    });

    it('treats a battle with an imported vote as already voted', async () => {
      const battle = makeBattle();
      await store.putBattle(battle);
      await store.importVotes([makeVote(battle.id, 7)]);
      expect(await store.recordVote(battle, 'right', 8)).toBe('already_voted');
      expect(await store.listVotes()).toEqual([makeVote(battle.id, 7)]);
    });

    it('lists every vote with its battle, imported votes with none, in store order', async () => {
      const battle = makeBattle();
      await store.putBattle(battle);
      await store.importVotes([makeVote('imported-first', 1)]);
      await store.recordVote(battle, 'left', 2);
      await store.importVotes([makeVote('imported-last', 3)]);

      expect(await collect(store.listVotesWithBattles())).toEqual([
        { vote: makeVote('imported-first', 1), battle: null },
        { vote: voteRecordFor(battle, 'left', 2), battle: { ...battle, vote: { choice: 'left', at: 2 } } },
        { vote: makeVote('imported-last', 3), battle: null },
      ]);
    });

    it('keeps a vote\'s categories and style features, recorded or imported', async () => {
      const style = {
        sum_user_tokens: 7, sum_assistant_a_tokens: 120, sum_assistant_b_tokens: 40, context_a_tokens: 127, context_b_tokens: 47, turns: 1,
        header_count_a: { h1: 1, h2: 2, h3: 0, h4: 0, h5: 0, h6: 0 }, list_count_a: { ordered: 3, unordered: 0 }, bold_count_a: { '**': 2, __: 0 },
        header_count_b: { h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0 }, list_count_b: { ordered: 0, unordered: 1 }, bold_count_b: { '**': 0, __: 1 },
      };
      const categories = { language: 'eng', topics: ['coding' as const], criteria: { specificity: true, domain_knowledge: true, complexity: false, problem_solving: true, creativity: false, technical_accuracy: true, real_world: false }, ifScore: 0 };
      const battle = makeBattle({ categories, style });
      await store.putBattle(battle);
      await store.recordVote(battle, 'right', 5);
      const imported = { ...makeVote('imported-meta', 6), categories: ['math', 'lang:deu'], style, promptHash: '0123456789abcdef' };
      await store.importVotes([imported]);

      const votes = await openAnother().listVotes();
      expect(votes).toEqual([{ ...voteRecordFor(battle, 'right', 5), categories: ['coding', 'lang:eng'], style }, imported]);
      expect(await store.getBattle(battle.id)).toEqual({ ...battle, vote: { choice: 'right', at: 5 } });
    });

    it('keeps one snapshot per board per day, the latest, listed oldest day first', async () => {
      const snapshot = (day: string, category: string, excludeTies: boolean, rating: number): BoardSnapshot => ({
        day,
        category,
        excludeTies,
        takenAt: Date.parse(`${day}T12:00:00Z`),
        countedVotes: 3,
        rows: [{ model: 'llama3', rating, ciLow: rating - 10, ciHigh: rating + 10, votes: 3 }],
      });
      expect(await store.listSnapshots('overall', false)).toEqual([]);
      await store.putSnapshot(snapshot('2026-12-02', 'overall', false, 1010));
      await store.putSnapshot(snapshot('2026-12-01', 'overall', false, 1000));
      await store.putSnapshot(snapshot('2026-12-02', 'overall', false, 1020)); // later the same day
      await store.putSnapshot(snapshot('2026-12-02', 'overall', true, 990));
      await store.putSnapshot(snapshot('2026-12-02', 'lang:deu', false, 980));

      const other = openAnother();
      expect((await other.listSnapshots('overall', false)).map((s) => [s.day, s.rows[0].rating])).toEqual([
        ['2026-12-01', 1000],
        ['2026-12-02', 1020],
      ]);
      expect(await other.listSnapshots('overall', true)).toEqual([snapshot('2026-12-02', 'overall', true, 990)]);
      expect(await other.listSnapshots('lang:deu', false)).toEqual([snapshot('2026-12-02', 'lang:deu', false, 980)]);
      expect(await other.listSnapshots('coding', false)).toEqual([]);
    });

    it('keeps everything after closing and reopening', async () => {
      const battle = makeBattle();
      const session: SessionRecord = { hash: 'h2', createdAt: 2, seenPairs: {}, currentBattleId: battle.id };
      await store.putSession(session);
      await store.putBattle(battle);
      await store.recordVote(battle, 'tie', 42);
      await store.importVotes([makeVote('old', 1)]);
      await store.close();

      store = backing.open();
      expect(await store.getSession('h2')).toEqual(session);
      expect(await store.getBattle(battle.id)).toEqual({ ...battle, vote: { choice: 'tie', at: 42 } });
      expect(await store.listVotes()).toEqual([voteRecordFor(battle, 'tie', 42), makeVote('old', 1)]);
      expect(await store.recordVote(battle, 'left', 43)).toBe('already_voted');
    });
  });
}

describeStoreContract('sqlite', sqliteBacking);
describeStoreContract('redis', redisBacking);
// The same contract on a Redis Cluster (keys hash-tagged per battle, votes bucketed), when one runs.
if (REDIS_CLUSTER_SEEDS && !REDIS_IS_CLUSTER)
  describeStoreContract('redis cluster', () => {
    const prefix = `test:${randomUUID()}:`;
    return { open: () => openRedisStore({ url: REDIS_CLUSTER_SEEDS!, prefix }), destroy: () => deleteRedisKeys(prefix, REDIS_CLUSTER_SEEDS) };
  });

describe('sqlite driver', () => {
  const backings: Backing[] = [];
  afterAll(async () => {
    for (const backing of backings) await backing.destroy();
  });

  it('creates <dir>/arena.db in WAL mode with the current schema version', async () => {
    const backing = sqliteBacking();
    backings.push(backing);
    const dir = join(backing.dir, 'nested', 'data');
    const store = openSqliteStore({ dir });
    await store.close();

    const db = new Database(join(dir, 'arena.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a database written by a newer schema', async () => {
    const backing = sqliteBacking();
    backings.push(backing);
    const db = new Database(join(backing.dir, 'arena.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => backing.open()).toThrow(/newer than this build/);
  });
});

describe('redis driver', () => {
  it('uses the documented key layout', async () => {
    const backing = redisBacking();
    const store = backing.open();
    const battle = makeBattle();
    await store.putSession({ hash: 'h', createdAt: 0, seenPairs: {} });
    await store.putBattle(battle);
    await store.recordVote(battle, 'left', 1);

    const redis = testRedis();
    const keys = (await keysWithPrefix(redis, backing.prefix)).sort();
    if (REDIS_IS_CLUSTER) {
      // Everything of a battle under its hash tag; the vote in one of the votes buckets.
      expect(keys.filter((k) => !k.includes(':votes:'))).toEqual(
        [`battle:{${battle.id}}`, 'session:h', `voted:{${battle.id}}`].map((key) => backing.prefix + key),
      );
      expect(keys.filter((k) => k.includes(':votes:'))).toEqual([expect.stringMatching(/votes:\{votes\.\d+\}$/)]);
    } else {
      expect(keys).toEqual([`battle:${battle.id}`, 'session:h', `voted:${battle.id}`, 'votes'].map((key) => backing.prefix + key));
      expect(await redis.type(`${backing.prefix}votes`)).toBe('stream');
    }
    await redis.quit();
    await store.close();
    await backing.destroy();
  });

  it('adds a vote to its votes bucket once, however often the append is repeated', async () => {
    const prefix = `test:${randomUUID()}:`;
    const redis = testRedis();
    defineArenaScripts(redis);
    const bucket = `${prefix}votes:{votes.0}`;
    const [first, second, late] = ['b1', 'b2', 'b3'].map((id) => JSON.stringify(makeVote(id, 1)));
    // A resend after a dropped reply: the entry is at its id already.
    expect(await redis.arenaAddVotes(bucket, '5-0', first)).toBe(1);
    expect(await redis.arenaAddVotes(bucket, '5-0', first)).toBe(0);
    // Another instance wrote a later id; the repeat is still found at its own id.
    expect(await redis.arenaAddVotes(bucket, '9-0', second)).toBe(1);
    expect(await redis.arenaAddVotes(bucket, '5-0', first)).toBe(0);
    // An id below the last one: Redis picks one; a repeat finds the entry among the latest.
    expect(await redis.arenaAddVotes(bucket, '3-0', late)).toBe(1);
    expect(await redis.arenaAddVotes(bucket, '3-0', late, '5-0', first)).toBe(0);
    const entries = await redis.xrange(bucket, '-', '+');
    expect(entries.map(([, fields]) => fields[1])).toEqual([first, second, late]);
    await redis.quit();
    await deleteRedisKeys(prefix);
  });

  // Only cluster mode writes the unindexed copy (one Redis does it all in the battle's script), so
  // this runs in npm test's cluster pass and is not registered in the single-Redis one.
  if (REDIS_IS_CLUSTER) it('cluster: a vote indexed by its writer, whose copy was left behind, is not indexed again by a repair', async () => {
    const backing = redisBacking();
    const store = backing.open();
    const battle = makeBattle();
    await store.putBattle(battle);
    expect(await store.recordVote(battle, 'left', 1)).toBe('ok');
    // The writer's last step (removing the unindexed copy) never happened; the copy is stale.
    const redis = testRedis();
    const [bucketKey] = (await keysWithPrefix(redis, backing.prefix)).filter((k) => k.includes(':votes:'));
    const [[id, fields]] = await redis.xrange(bucketKey, '-', '+');
    await redis.set(`${backing.prefix}vote-unindexed:{${battle.id}}`, `${Date.now() - 60_000}|${id}|${fields[1]}`);
    // A later attempt at the battle repairs it: nothing is added twice.
    expect(await backing.open().recordVote(battle, 'right', 2)).toBe('already_voted');
    expect(await redis.exists(`${backing.prefix}vote-unindexed:{${battle.id}}`)).toBe(0);
    expect((await store.listVotes()).map((v) => v.battleId)).toEqual([battle.id]);
    await redis.quit();
    await store.close();
    await backing.destroy();
  });

  it('reports an unreachable Redis as not ready, and fails commands instead of hanging', async () => {
    const store = openRedisStore({ url: 'redis://127.0.0.1:1', logger: silentLogger });
    const started = Date.now();
    expect(await store.ping()).toBe(false);
    await expect(store.getSession('h')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(4_000);
    await store.close();
  });
});

describe('openStore', () => {
  it('picks Redis when a URL is configured, else SQLite', async () => {
    const backing = sqliteBacking();
    const sqlite = openStore({ dataDir: backing.dir }, silentLogger);
    const redis = openStore({ dataDir: backing.dir, redisUrl: REDIS_URL }, silentLogger);
    expect([sqlite.kind, redis.kind]).toEqual(['sqlite', 'redis']);
    expect(await redis.ping()).toBe(true);
    await sqlite.close();
    await redis.close();
    await backing.destroy();
  });
});
