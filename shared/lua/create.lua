-- Write a new job record, its first event and its Celery message in one step, so a record
-- never exists without its message nor a message without its record.
-- Answers the job's arrival number, its 0-based place among the waiting jobs, and its first event's id.
-- KEYS: job, events, waiting, owner_jobs, celery_queue, sequence
-- ARGV: job_id, created_at, ttl, maxlen, event_data, message, field/value pairs...
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('job id already exists')
end
local seq = redis.call('INCR', KEYS[6])
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'seq', seq, unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
local event = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'status', 'data', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('LPUSH', KEYS[5], ARGV[6])
return {seq, redis.call('ZRANK', KEYS[3], ARGV[1]), event}
