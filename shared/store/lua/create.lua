-- create (JobStore.create): writes a new job's record, its first event and its Celery message in one
-- step, so neither exists without the other; refused when a cap is reached (lib.lua's `admit`). With an
-- Idempotency-Key (`idem_fingerprint` not ''), a key used answers the job it made instead, and a new one
-- is remembered in the same step. The job's indexes (its key's active set, its tenant's waiting set) are
-- named in the record, so its start and end leave them; lib.lua's `wake_the_door`. Answers {'ok', arrival
-- number, 0-based place among the waiting, first event id, lib.lua's `wait_inputs`}, {'exists', job id,
-- fingerprint, in flight until}, or {'queue_full' | 'tenant_queue_full' | 'too_many_active', count}.
--! keys: job events waiting tenant_waiting owner_jobs celery_queue sequence active idem deadlines finished workers fair wakes
--! args: job_id created_at ttl maxlen event message max_waiting max_tenant_waiting max_active idem_fingerprint idem_inflight_until deadline_at history alive_since priority tenant weight class_base batch_base max_wakes fields*
--! uses: lib
if A.idem_fingerprint ~= '' then
  local known = redis.call('HMGET', K.idem, 'job_id', 'fingerprint', 'inflight_until')
  if known[1] then return {'exists', known[1], known[2], known[3] or '0'} end
end
if redis.call('EXISTS', K.job) == 1 then return redis.error_reply('job id already exists') end
local refused = admit()
if refused then return refused end
local seq = redis.call('INCR', K.sequence)
local order = place_in_line(seq)
redis.call('HSET', K.job, 'seq', seq, 'order', order, 'active_set', K.active, 'waiting_set', K.tenant_waiting, unpack(REST))
redis.call('EXPIRE', K.job, A.ttl)
redis.call('ZADD', K.waiting, order, A.job_id)
for _, index in ipairs({K.tenant_waiting, K.active}) do
  redis.call('ZADD', index, A.created_at, A.job_id)
  redis.call('EXPIRE', index, A.ttl)
end
redis.call('ZADD', K.owner_jobs, A.created_at, A.job_id)
redis.call('ZREMRANGEBYSCORE', K.owner_jobs, '-inf', tonumber(A.created_at) - tonumber(A.ttl))
if A.deadline_at ~= '' then redis.call('ZADD', K.deadlines, A.deadline_at, A.job_id) end
if A.idem_fingerprint ~= '' then
  redis.call('HSET', K.idem, 'job_id', A.job_id, 'fingerprint', A.idem_fingerprint, 'inflight_until', A.idem_inflight_until)
  redis.call('EXPIRE', K.idem, A.ttl)
end
local event = redis.call('XADD', K.events, 'MAXLEN', '~', A.maxlen, '*', 'type', 'status', 'data', A.event)
redis.call('EXPIRE', K.events, A.ttl)
redis.call('LPUSH', K.celery_queue, A.message)
wake_the_door()
local finishes, oldest, newest, workers = wait_inputs()
return {'ok', seq, redis.call('ZRANK', K.waiting, A.job_id), event, finishes, oldest, newest, workers}
