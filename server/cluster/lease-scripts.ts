/**
 * Lua scripts for fenced battle leases. A battle has a lease (`lease:<id>` = instance id, with a
 * TTL: liveness) and an epoch (`epoch:<id>`, a counter bumped on every acquisition: the fencing
 * token). Every log append checks the epoch atomically, so an instance that lost a battle can
 * never write into it again, whatever its timers believe.
 */

/**
 * KEYS: lease, epoch. ARGV: instance id, lease ms, epoch ttl s.
 * Returns the holder's epoch (this instance holds the lease), or 0 (another instance does).
 */
export const ACQUIRE = `local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return tonumber(redis.call('get', KEYS[2]) or '0') end
if holder then return 0 end
local epoch = redis.call('incr', KEYS[2])
redis.call('expire', KEYS[2], ARGV[3])
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return epoch`;

/**
 * KEYS: lease, epoch. ARGV: instance id, lease ms, my epoch.
 * Renews (or re-asserts after an outage let it expire) a lease whose epoch is still mine: 1.
 * 0: another instance took the battle over (the epoch moved on), or holds the lease now.
 */
export const RENEW = `local epoch = tonumber(redis.call('get', KEYS[2]) or '0')
if epoch ~= tonumber(ARGV[3]) and epoch ~= 0 then return 0 end
local holder = redis.call('get', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if epoch == 0 then redis.call('set', KEYS[2], ARGV[3]) end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS: lease, epoch. ARGV: instance id, my epoch. Releases a lease this instance still holds at its epoch. */
export const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] and tonumber(redis.call('get', KEYS[2]) or '0') == tonumber(ARGV[2]) then
  return redis.call('del', KEYS[1])
end
return 0`;

/**
 * KEYS: log, epoch. ARGV: my epoch, log ttl s (0: leave the expiry), then seq, event JSON pairs.
 * Appends only while the stored epoch is mine (a missing epoch: Redis lost its data, nobody took
 * over). Returns the number of entries added, or -1 when fenced. An entry whose seq is already
 * stored (a retried write) is skipped.
 */
export const FENCED_APPEND = `local epoch = tonumber(redis.call('get', KEYS[2]) or '0')
if epoch ~= tonumber(ARGV[1]) and epoch ~= 0 then return -1 end
local added = 0
for i = 3, #ARGV, 2 do
  local ok = redis.pcall('xadd', KEYS[1], ARGV[i] .. '-1', 'e', ARGV[i + 1])
  if type(ok) ~= 'table' or not ok.err then added = added + 1 end
end
if tonumber(ARGV[2]) > 0 then redis.call('expire', KEYS[1], ARGV[2]) end
return added`;
