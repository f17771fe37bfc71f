import type { Cluster, Redis, Result } from 'ioredis';

/*
 * Lua scripts run atomically on the Redis server, so several arena instances sharing one Redis
 * can never both record a vote for the same battle. Each script checks everything before its
 * first write: Redis rejects a script under OOM only at that first write, so a script either
 * writes all of its keys or none.
 *
 * Keys: battle = JSON of the battle; voted = JSON {choice, at}, the per-battle "has a vote"
 * marker (set by recordVote and importVotes alike); votes = the stream of VoteRecord entries.
 */

/** KEYS: battle, voted, votes. ARGV: battle JSON with its vote, vote JSON, VoteRecord JSON. */
const RECORD_VOTE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'already_voted' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'vote', ARGV[3])
return 'ok'
`;

/**
 * KEYS: battle, voted. ARGV: battle JSON without a vote.
 * The stored vote is spliced in as the last property, so the battle is never re-encoded in Lua
 * (cjson would turn empty arrays into objects).
 */
const PUT_BATTLE = `
local vote = redis.call('GET', KEYS[2])
if vote then
  redis.call('SET', KEYS[1], string.sub(ARGV[1], 1, -2) .. ',"vote":' .. vote .. '}')
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`;

/** KEYS: voted, votes. ARGV: vote JSON, VoteRecord JSON. Returns 1 when added, 0 when known. */
const IMPORT_VOTE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('XADD', KEYS[2], '*', 'vote', ARGV[2])
return 1
`;

/*
 * Cluster mode: every key of a script is one battle's (one hash tag, one slot). The votes stream
 * (bucketed there) is written after the script: the script leaves an "unindexed" copy of the
 * VoteRecord in the battle's slot, removed once the vote is in its bucket (server/store/redis.ts).
 */

/**
 * KEYS: battle, voted, unindexed. ARGV: battle JSON with its vote, vote JSON, stamped VoteRecord.
 * 'stored_before': this very vote (same choice and time) was stored by an earlier attempt whose
 * reply was lost (a failover): the caller finishes it.
 */
const RECORD_VOTE_TAGGED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
local voted = redis.call('GET', KEYS[2])
if voted == ARGV[2] then return 'stored_before' end
if voted then return 'already_voted' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 'ok'
`;

/** KEYS: voted, unindexed. ARGV: vote JSON, VoteRecord JSON. Returns 1 when added, 0 when known. */
const IMPORT_VOTE_TAGGED = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`;

/**
 * KEYS: a votes bucket. ARGV: id, VoteRecord JSON pairs. Adds them in order, each at most once: a
 * repeat (a retry or a resend after the connection dropped once the first run was done, a repair
 * of a vote indexed before) finds its entry, at its id or among the bucket's last entries, and is
 * skipped. An id not above the stream's last (another instance's clock ran ahead) is replaced by
 * one Redis picks. Returns how many were added.
 */
/** Entries of a bucket searched for a repeated vote whose id is taken (the votes since its first write). */
const RECENT_SCAN = 256;

const ADD_VOTES = `
local added = 0
for i = 1, #ARGV, 2 do
  local id, json = ARGV[i], ARGV[i + 1]
  local ok = redis.pcall('XADD', KEYS[1], id, 'vote', json)
  if type(ok) == 'table' and ok.err then
    local present = false
    local at = redis.call('XRANGE', KEYS[1], id, id)
    if at[1] and at[1][2][2] == json then present = true end
    if not present then
      for _, entry in ipairs(redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ${RECENT_SCAN})) do
        if entry[2][2] == json then present = true break end
      end
    end
    if not present then
      redis.call('XADD', KEYS[1], '*', 'vote', json)
      added = added + 1
    end
  else
    added = added + 1
  end
end
return added
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    arenaRecordVote(
      battleKey: string,
      votedKey: string,
      votesKey: string,
      battleJson: string,
      voteJson: string,
      voteRecordJson: string,
    ): Result<'ok' | 'already_voted' | 'not_found', Context>;
    arenaPutBattle(battleKey: string, votedKey: string, battleJson: string): Result<number, Context>;
    arenaImportVote(votedKey: string, votesKey: string, voteJson: string, voteRecordJson: string): Result<number, Context>;
    arenaRecordVoteTagged(
      battleKey: string,
      votedKey: string,
      unindexedKey: string,
      battleJson: string,
      voteJson: string,
      voteRecordJson: string,
    ): Result<'ok' | 'stored_before' | 'already_voted' | 'not_found', Context>;
    arenaAddVotes(votesKey: string, ...idJsonPairs: string[]): Result<number, Context>;
    arenaImportVoteTagged(votedKey: string, unindexedKey: string, voteJson: string, voteRecordJson: string): Result<number, Context>;
  }
}

/** Registers the scripts as commands (EVALSHA, loading the script on first use). */
export function defineArenaScripts(redis: Redis | Cluster): void {
  redis.defineCommand('arenaRecordVote', { numberOfKeys: 3, lua: RECORD_VOTE });
  redis.defineCommand('arenaPutBattle', { numberOfKeys: 2, lua: PUT_BATTLE });
  redis.defineCommand('arenaImportVote', { numberOfKeys: 2, lua: IMPORT_VOTE });
  redis.defineCommand('arenaRecordVoteTagged', { numberOfKeys: 3, lua: RECORD_VOTE_TAGGED });
  redis.defineCommand('arenaAddVotes', { numberOfKeys: 1, lua: ADD_VOTES });
  redis.defineCommand('arenaImportVoteTagged', { numberOfKeys: 2, lua: IMPORT_VOTE_TAGGED });
}
