import type { Redis } from 'ioredis';
import { connectRedis } from '../infra/redis.js';
import { silentLogger, type Logger } from '../infra/log.js';
import { defineArenaScripts } from './redis-scripts.js';
import type { BattleRecord, BoardSnapshot, SessionRecord, Store, VoteChoice, VotePage, VoteRecord } from './types.js';
import { emptyTally, voteRecordFor, withoutVote } from './vote-record.js';

export interface RedisStoreOptions {
  url: string;
  /** Namespace of every key, so several arenas (or tests) can share one Redis. */
  prefix?: string;
  logger?: Logger;
}

/** Stream entries per XRANGE, and votes per import pipeline. */
const PAGE_SIZE = 500;
/** /readyz must answer quickly even while Redis is unreachable. */
const PING_TIMEOUT_MS = 1_500;

/**
 * Durability follows the Redis server's persistence settings: for "acknowledged = on disk",
 * run Redis with `appendonly yes` and `appendfsync always`.
 */
export function openRedisStore({ url, prefix = 'arena:', logger = silentLogger }: RedisStoreOptions): Store {
  const redis = connectRedis(url, logger, 'store');
  defineArenaScripts(redis);

  const key = {
    session: (hash: string) => `${prefix}session:${hash}`,
    battle: (id: string) => `${prefix}battle:${id}`,
    voted: (battleId: string) => `${prefix}voted:${battleId}`,
    votes: `${prefix}votes`,
    crowd: (battleId: string) => `${prefix}crowd:${battleId}`,
    /** Hash day → snapshot JSON, one per board. */
    snapshots: (category: string, excludeTies: boolean) => `${prefix}snapshots:${category}:${excludeTies ? 'decisive' : 'all'}`,
  };

  async function votesAfter(cursor: string | undefined, limit: number): Promise<VotePage> {
    const entries = await redis.xrange(key.votes, cursor === undefined ? '-' : `(${cursor}`, '+', 'COUNT', limit);
    return { votes: entries.map(([, fields]) => parseVoteEntry(fields)), cursor: entries.length ? entries[entries.length - 1][0] : cursor };
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
    const pipeline = redis.pipeline();
    for (const vote of votes) {
      const marker = JSON.stringify({ choice: vote.choice, at: vote.tstamp });
      pipeline.arenaImportVote(key.voted(vote.battleId), key.votes, marker, JSON.stringify(vote));
    }
    let added = 0;
    for (const [error, result] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      added += result as number;
    }
    return added;
  }

  return {
    kind: 'redis',

    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      });
      try {
        return await Promise.race([redis.ping().then((reply) => reply === 'PONG'), timedOut]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
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
      await redis.set(key.session(session.hash), JSON.stringify(session));
    },

    async getBattle(id) {
      const json = await redis.get(key.battle(id));
      return json === null ? null : (JSON.parse(json) as BattleRecord);
    },

    async putBattle(battle) {
      await redis.arenaPutBattle(key.battle(battle.id), key.voted(battle.id), JSON.stringify(withoutVote(battle)));
    },

    async recordVote(battle, choice, at) {
      const vote = { choice, at };
      return redis.arenaRecordVote(
        key.battle(battle.id),
        key.voted(battle.id),
        key.votes,
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
        const jsons = await redis.mget(page.map((vote) => key.battle(vote.battleId)));
        // Imported votes have no battle behind them.
        for (const json of jsons) if (json !== null) yield JSON.parse(json) as BattleRecord;
      }
    },

    async *listBattles() {
      const stream = redis.scanStream({ match: key.battle('*'), count: PAGE_SIZE });
      for await (const keys of stream as AsyncIterable<string[]>) {
        if (keys.length === 0) continue;
        for (const json of await redis.mget(keys)) if (json !== null) yield JSON.parse(json) as BattleRecord;
      }
    },

    async *listVotesWithBattles() {
      for await (const page of votePages()) {
        const jsons = await redis.mget(page.map((vote) => key.battle(vote.battleId)));
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
      return (await redis.hsetnx(key.crowd(battleId), voter, choice)) === 1 ? 'ok' : 'already_voted';
    },

    async crowdTally(battleId) {
      const tally = emptyTally();
      for (const choice of await redis.hvals(key.crowd(battleId))) tally[choice as VoteChoice] += 1;
      return tally;
    },
  };
}

function parseVoteEntry(fields: string[]): VoteRecord {
  return JSON.parse(fields[fields.indexOf('vote') + 1]) as VoteRecord;
}
