-- Free a running job whose lease lapsed (its worker is gone) and send its task again, in one
-- step so the job cannot be lost between the two; the next lease_until keeps reapers from
-- sending it again before a worker had the chance to take it.
-- KEYS: job, running, celery_queue
-- ARGV: job_id, now, next_check, message
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0') > tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'holder', '', 'lease_until', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[4])
return 1
