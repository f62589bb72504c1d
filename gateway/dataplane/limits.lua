-- The limits' Redis script: one round trip decides and counts, atomically.
-- Run by gateway/limits.py (in-process gateway) and by gateway/dataplane/gateway.lua
-- (nginx), so that both count the same counters the same way.
-- KEYS: rate window, previous rate window, quota period.
-- ARGV: rate limit, rate key lifetime, elapsed fraction of the rate window,
--       quota limit, quota key lifetime.
-- Returns {verdict, current, previous, used}: 0 refused by the rate, 1 by the quota,
-- 2 admitted (and counted).
local rate_limit = tonumber(ARGV[1])
local quota_limit = tonumber(ARGV[4])
local current, previous, used = 0, 0, 0
if rate_limit > 0 then
  current = tonumber(redis.call('GET', KEYS[1]) or '0')
  previous = tonumber(redis.call('GET', KEYS[2]) or '0')
end
if quota_limit > 0 then
  used = tonumber(redis.call('GET', KEYS[3]) or '0')
end
if rate_limit > 0 and previous * (1 - tonumber(ARGV[3])) + current + 1 > rate_limit then
  return {0, current, previous, used}
end
if quota_limit > 0 and used + 1 > quota_limit then
  return {1, current, previous, used}
end
if rate_limit > 0 then
  current = redis.call('INCR', KEYS[1])
  if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
end
if quota_limit > 0 then
  used = redis.call('INCR', KEYS[3])
  if used == 1 then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
end
return {2, current, previous, used}
