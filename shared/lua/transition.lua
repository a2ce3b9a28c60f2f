-- The one place a job's status changes: checks the allowed sources and the expected lease
-- holder, writes status, timestamp and fields, keeps the queue indexes and appends the event,
-- all atomically (compare-and-set, so a late duplicate cannot overwrite a terminal job).
-- Answers {outcome, status found, the record after the change (when it happened)}.
-- KEYS: job, events, waiting, running
-- ARGV: new_status, now, allowed_sources (space separated), expect_holder ('*' = any),
--       timestamp_field ('' = none), terminal_ttl ('0' = not terminal), incr_attempts ('0'/'1'),
--       lease_until, maxlen, error_json ('' = none), field/value pairs...
local new, now = ARGV[1], ARGV[2]
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'missing', ''} end
local allowed = false
for s in string.gmatch(ARGV[3], '%S+') do
  if s == cur then allowed = true end
end
if not allowed then return {'conflict', cur} end
local holder = redis.call('HGET', KEYS[1], 'holder') or ''
if ARGV[4] ~= '*' and holder ~= ARGV[4] then return {'conflict', cur} end
if cur == 'running' and new == 'running' and ARGV[7] ~= '1' then return {'conflict', cur} end

local id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[1], 'status', new)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], ARGV[5], now) end
for i = 11, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if ARGV[7] == '1' then attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1) end

local event = {status = new, attempts = attempts}
if ARGV[10] ~= '' then event.error = cjson.decode(ARGV[10]) end
if new == 'running' then
  redis.call('HSET', KEYS[1], 'lease_until', ARGV[8])
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[4], ARGV[8], id)
elseif ARGV[6] ~= '0' then
  redis.call('HSET', KEYS[1], 'holder', '', 'lease_until', 0)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'type', 'status', 'data', cjson.encode(event))
return {'ok', cur, redis.call('HGETALL', KEYS[1])}
