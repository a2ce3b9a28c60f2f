-- Write a new job record, its first event and its Celery message in one step, so a record
-- never exists without its message nor a message without its record.
-- Answers the job's arrival number, its 0-based place among the waiting jobs, and its first event's id.
--! keys: job events waiting owner_jobs celery_queue sequence
--! args: job_id created_at ttl maxlen event message fields*
if redis.call('EXISTS', K.job) == 1 then
  return redis.error_reply('job id already exists')
end
local seq = redis.call('INCR', K.sequence)
redis.call('HSET', K.job, 'seq', seq, unpack(REST))
redis.call('EXPIRE', K.job, A.ttl)
redis.call('ZADD', K.waiting, seq, A.job_id)
redis.call('ZADD', K.owner_jobs, A.created_at, A.job_id)
redis.call('ZREMRANGEBYSCORE', K.owner_jobs, '-inf', tonumber(A.created_at) - tonumber(A.ttl))
local event = redis.call('XADD', K.events, 'MAXLEN', '~', A.maxlen, '*', 'type', 'status', 'data', A.event)
redis.call('EXPIRE', K.events, A.ttl)
redis.call('LPUSH', K.celery_queue, A.message)
return {seq, redis.call('ZRANK', K.waiting, A.job_id), event}
