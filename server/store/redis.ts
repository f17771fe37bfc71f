import { runInBackground } from '../background.js';
import { connectRedis, isCluster, masterNodes, redisTarget, retryOnFailover, type RedisTarget } from '../infra/redis.js';
import { redisLayout } from '../infra/redis-layout.js';
import { silentLogger, type Logger } from '../infra/log.js';
import { defineArenaScripts } from './redis-scripts.js';
import type { BattleRecord, BoardSnapshot, SessionRecord, Store, VoteChoice, VotePage, VoteRecord } from './types.js';
import { emptyTally, voteRecordFor, withoutVote } from './vote-record.js';
import { withDeadline } from '../infra/deadline.js';

export interface RedisStoreOptions {
  /** One URL, a comma-separated cluster seed list, or a resolved target (cluster mode). */
  url: string | RedisTarget;
  /** Cluster mode: buckets of the votes stream (default 16). */
  buckets?: number;
  /** Namespace of every key, so several arenas (or tests) can share one Redis. */
  prefix?: string;
  logger?: Logger;
}

/** Stream entries per XRANGE, and votes per import pipeline. */
const PAGE_SIZE = 500;
/** /readyz must answer quickly even while Redis is unreachable. */
const PING_TIMEOUT_MS = 1_500;
/** Cluster mode: an unindexed vote copy older than this was abandoned by its writer. */
const UNINDEXED_STALE_MS = 10_000;

/**
 * Durability follows the Redis server's persistence settings: for "acknowledged = on disk",
 * run Redis with `appendonly yes` and `appendfsync always`.
 */
export function openRedisStore({ url, prefix = 'arena:', logger = silentLogger, buckets }: RedisStoreOptions): Store {
  const target = redisTarget(url);
  // No auto-pipelining on a cluster either (see server/cluster/shared-redis.ts): each command follows its own redirects.
  const redis = connectRedis(target, logger, 'store');
  defineArenaScripts(redis);
  const layout = redisLayout(prefix, target.cluster, buckets);
  const tagged = layout.tagged;

  const key = {
    session: (hash: string) => `${prefix}session:${hash}`,
    battle: (id: string) => layout.battle('battle', id),
    voted: (battleId: string) => layout.battle('voted', battleId),
    /** Cluster mode: the VoteRecord of a vote stored in its battle's slot but not yet in its votes bucket. */
    unindexed: (battleId: string) => layout.battle('vote-unindexed', battleId),
    votes: (battleId: string) => layout.bucket('votes', layout.bucketOf(battleId)),
    crowd: (battleId: string) => layout.battle('crowd', battleId),
    /** Hash day → snapshot JSON, one per board. */
    snapshots: (category: string, excludeTies: boolean) => `${prefix}snapshots:${category}:${excludeTies ? 'decisive' : 'all'}`,
    probe: `${prefix}readyz`,
  };
  const voteBuckets = layout.allBuckets('votes');

  /**
   * Cluster mode: a vote is stored atomically in its battle's slot (record, marker and an
   * "unindexed" copy stamped with the time), then added to its votes bucket, then the copy is
   * removed. A vote is only acknowledged once indexed. A copy left behind (a crash or failover in
   * between) is indexed by a later attempt at that battle or by the sweep at start-up, once it is
   * older than UNINDEXED_STALE_MS (so never while its writer is still at it): claimed with GETDEL,
   * so only one repairer adds it.
   */
  async function repair(battleId: string): Promise<boolean> {
    const stamped = await redis.get(key.unindexed(battleId));
    if (stamped === null || Date.now() - parseUnindexed(stamped).at < UNINDEXED_STALE_MS) return false;
    const claimed = await redis.getdel(key.unindexed(battleId));
    if (claimed === null) return false;
    const { id, json } = parseUnindexed(claimed);
    try {
      // Its writer may have indexed it and stopped before removing the copy: the same id again is a no-op.
      await xaddVote(battleId, json, id);
    } catch (err) {
      await redis.set(key.unindexed(battleId), claimed).catch(() => undefined);
      throw err;
    }
    return true;
  }

  /**
   * Ids this process gives votes: "<ms>-<n>", increasing across every bucket, so merging the
   * buckets by id gives this instance's store order (other instances' votes interleave by time).
   */
  let lastMs = 0;
  let lastSeq = 0;
  function nextVoteId(): string {
    const now = Date.now();
    if (now > lastMs) [lastMs, lastSeq] = [now, 0];
    else lastSeq += 1;
    return `${lastMs}-${lastSeq}`;
  }

  /**
   * Adds a vote to its bucket at `id`, at most once (ADD_VOTES): a retry after a dropped reply, or
   * a repair of a vote its writer indexed, finds the entry and adds nothing.
   */
  async function xaddVote(battleId: string, json: string, id: string): Promise<void> {
    await redis.arenaAddVotes(key.votes(battleId), id, json);
  }

  async function sweepUnindexed(): Promise<number> {
    let indexed = 0;
    for (const node of masterNodes(redis)) {
      const stream = node.scanStream({ match: key.unindexed('*'), count: PAGE_SIZE });
      for await (const keys of stream as AsyncIterable<string[]>) {
        for (const k of keys) if (await repair(layout.battleIdOf('vote-unindexed', k)).catch(() => false)) indexed += 1;
      }
    }
    return indexed;
  }
  if (tagged) setTimeout(() => runInBackground(sweepUnindexed().then((n) => n > 0 && logger.warn({ indexed: n }, 'indexed votes left unindexed by an interrupted write')), logger, 'unindexed vote sweep'), UNINDEXED_STALE_MS).unref();

  /** Values of keys that may live in different slots (one MGET on a single Redis). */
  async function getMany(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    if (!isCluster(redis)) return redis.mget(keys);
    return Promise.all(keys.map((k) => redis.get(k)));
  }

  async function votesAfter(cursor: string | undefined, limit: number): Promise<VotePage> {
    if (!tagged) {
      const entries = await redis.xrange(voteBuckets[0], cursor === undefined ? '-' : `(${cursor}`, '+', 'COUNT', limit);
      return { votes: entries.map(([, fields]) => parseVoteEntry(fields)), cursor: entries.length ? entries[entries.length - 1][0] : cursor };
    }
    // Compound cursor: the last id read from each bucket ("" = none yet), joined by "|".
    const positions = cursor?.split('|') ?? [];
    const pages = await Promise.all(
      voteBuckets.map((bucket, k) => redis.xrange(bucket, positions[k] ? `(${positions[k]}` : '-', '+', 'COUNT', limit)),
    );
    const merged = pages
      .flatMap((entries, k) => entries.map(([id, fields]) => ({ k, id, fields })))
      .sort((x, y) => compareStreamIds(x.id, y.id) || x.k - y.k)
      .slice(0, limit);
    if (merged.length === 0) return { votes: [], cursor };
    const next = voteBuckets.map((_, k) => positions[k] ?? '');
    for (const entry of merged) next[entry.k] = entry.id;
    return { votes: merged.map((e) => parseVoteEntry(e.fields)), cursor: next.join('|') };
  }

  /** The votes stream in order, one page at a time. */
  async function* votePages(): AsyncGenerator<VoteRecord[]> {
    for (let cursor: string | undefined; ; ) {
      const page = await votesAfter(cursor, PAGE_SIZE);
      if (page.votes.length > 0) yield page.votes;
      if (page.votes.length < PAGE_SIZE) return;
      cursor = page.cursor;
    }
  }

  async function importChunk(votes: VoteRecord[]): Promise<number> {
    if (tagged) {
      // One battle per script (its own slot; the client pipelines them per node), then the new
      // votes are indexed with ids given in batch order.
      const now = Date.now();
      const ids = votes.map(() => nextVoteId());
      const stored = await Promise.all(
        votes.map((vote, i) =>
          redis.arenaImportVoteTagged(key.voted(vote.battleId), key.unindexed(vote.battleId), JSON.stringify({ choice: vote.choice, at: vote.tstamp }), `${now}|${ids[i]}|${JSON.stringify(vote)}`),
        ),
      );
      const added = votes.filter((_, i) => stored[i] === 1);
      // One XADD script per bucket for the whole chunk (at the ids kept with the copies), then the copies go.
      const byBucket = new Map<string, string[]>();
      votes.forEach((vote, i) => {
        if (stored[i] !== 1) return;
        const bucket = key.votes(vote.battleId);
        byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), ids[i], JSON.stringify(vote)]);
      });
      await Promise.all([...byBucket].map(([bucket, entries]) => redis.arenaAddVotes(bucket, ...entries)));
      await Promise.all(added.map((vote) => redis.del(key.unindexed(vote.battleId))));
      return added.length;
    }
    const pipeline = redis.pipeline();
    for (const vote of votes) {
      const marker = JSON.stringify({ choice: vote.choice, at: vote.tstamp });
      pipeline.arenaImportVote(key.voted(vote.battleId), key.votes(vote.battleId), marker, JSON.stringify(vote));
    }
    let added = 0;
    for (const [error, result] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      added += result as number;
    }
    return added;
  }

  /** A hash-tagged write and read back (and, on a cluster, cluster_state:ok): the layout works. */
  async function probe(): Promise<boolean> {
    const token = `${Date.now()}-${Math.random()}`;
    const probeKey = layout.tagged ? `${key.probe}:{${token}}` : key.probe;
    if ((await redis.set(probeKey, token, 'PX', 10_000)) !== 'OK') return false;
    if ((await redis.get(probeKey)) !== token) return false;
    if (layout.tagged) await redis.del(probeKey);
    if (isCluster(redis)) {
      const info = await redis.cluster('INFO');
      if (!/cluster_state:ok/.test(String(info))) return false;
    }
    return true;
  }

  return {
    kind: 'redis',

    async ping() {
      return withDeadline(probe(), PING_TIMEOUT_MS, false).catch(() => false);
    },

    async close() {
      // QUIT would sit in the offline queue while disconnected; drop the socket instead.
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    },

    async getSession(hash) {
      const json = await redis.get(key.session(hash));
      return json === null ? null : (JSON.parse(json) as SessionRecord);
    },

    async putSession(session) {
      await retryOnFailover(redis, () => redis.set(key.session(session.hash), JSON.stringify(session)));
    },

    async getBattle(id) {
      const json = await redis.get(key.battle(id));
      return json === null ? null : (JSON.parse(json) as BattleRecord);
    },

    async putBattle(battle) {
      await retryOnFailover(redis, () => redis.arenaPutBattle(key.battle(battle.id), key.voted(battle.id), JSON.stringify(withoutVote(battle))));
    },

    async recordVote(battle, choice, at) {
      const vote = { choice, at };
      if (tagged) {
        const record = JSON.stringify(voteRecordFor(battle, choice, at));
        // The bucket id is chosen now and kept with the copy: every later attempt uses the same one.
        const id = nextVoteId();
        const stamped = `${Date.now()}|${id}|${record}`;
        const result = await retryOnFailover(redis, () =>
          redis.arenaRecordVoteTagged(key.battle(battle.id), key.voted(battle.id), key.unindexed(battle.id), JSON.stringify({ ...battle, vote }), JSON.stringify(vote), stamped),
        );
        if (result === 'ok') {
          await retryOnFailover(redis, () => xaddVote(battle.id, record, id));
          await retryOnFailover(redis, () => redis.del(key.unindexed(battle.id)));
          return 'ok';
        }
        if (result === 'stored_before') {
          // Our own earlier attempt stored it: index it unless that attempt got that far too.
          const copy = await retryOnFailover(redis, () => redis.getdel(key.unindexed(battle.id)));
          if (copy !== null) {
            const earlier = parseUnindexed(copy);
            await retryOnFailover(redis, () => xaddVote(battle.id, earlier.json, earlier.id));
          }
          return 'ok';
        }
        // A vote stored but left unindexed by an interrupted write: index it now.
        if (result === 'already_voted') await repair(battle.id).catch(() => false);
        return result;
      }
      return redis.arenaRecordVote(
        key.battle(battle.id),
        key.voted(battle.id),
        key.votes(battle.id),
        JSON.stringify({ ...battle, vote }),
        JSON.stringify(vote),
        JSON.stringify(voteRecordFor(battle, choice, at)),
      );
    },

    async listVotes() {
      const votes: VoteRecord[] = [];
      for await (const page of votePages()) votes.push(...page);
      return votes;
    },

    votesAfter,

    async *listVotedBattles() {
      for await (const page of votePages()) {
        const jsons = await getMany(page.map((vote) => key.battle(vote.battleId)));
        // Imported votes have no battle behind them.
        for (const json of jsons) if (json !== null) yield JSON.parse(json) as BattleRecord;
      }
    },

    async *listBattles() {
      for (const node of masterNodes(redis)) {
        const stream = node.scanStream({ match: key.battle('*'), count: PAGE_SIZE });
        for await (const keys of stream as AsyncIterable<string[]>) {
          if (keys.length === 0) continue;
          for (const json of await getMany(keys)) if (json !== null) yield JSON.parse(json) as BattleRecord;
        }
      }
    },

    async *listVotesWithBattles() {
      for await (const page of votePages()) {
        const jsons = await getMany(page.map((vote) => key.battle(vote.battleId)));
        for (const [i, vote] of page.entries()) {
          const json = jsons[i];
          yield { vote, battle: json === null ? null : (JSON.parse(json) as BattleRecord) };
        }
      }
    },

    async importVotes(votes) {
      let added = 0;
      for (let i = 0; i < votes.length; i += PAGE_SIZE) added += await importChunk(votes.slice(i, i + PAGE_SIZE));
      return added;
    },

    async putSnapshot(snapshot) {
      await redis.hset(key.snapshots(snapshot.category, snapshot.excludeTies), snapshot.day, JSON.stringify(snapshot));
    },

    async listSnapshots(category, excludeTies) {
      const byDay = await redis.hgetall(key.snapshots(category, excludeTies));
      return Object.keys(byDay)
        .sort()
        .map((day) => JSON.parse(byDay[day]) as BoardSnapshot);
    },

    async recordCrowdVote(battleId, voter, choice) {
      return (await retryOnFailover(redis, () => redis.hsetnx(key.crowd(battleId), voter, choice))) === 1 ? 'ok' : 'already_voted';
    },

    async crowdTally(battleId) {
      const tally = emptyTally();
      for (const choice of await redis.hvals(key.crowd(battleId))) tally[choice as VoteChoice] += 1;
      return tally;
    },
  };
}

/** Cluster mode's "unindexed" copy: `<stamped at ms>|<bucket id>|<VoteRecord JSON>`. */
function parseUnindexed(copy: string): { at: number; id: string; json: string } {
  const [at, id] = copy.split('|', 2);
  return { at: Number(at), id, json: copy.slice(at.length + id.length + 2) };
}

/** Stream ids ("<ms>-<seq>") in order. */
function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}

function parseVoteEntry(fields: string[]): VoteRecord {
  return JSON.parse(fields[fields.indexOf('vote') + 1]) as VoteRecord;
}
