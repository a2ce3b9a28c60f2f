-- Write a new job record, its first event and its Celery message in one step, so a record
-- never exists without its message nor a message without its record; refuse it instead when its
-- queue already holds `max_waiting` waiting jobs, its tenant `max_tenant_waiting` of them, or its key
-- `max_active` queued and running ones ('0' = no cap). The key's active set and the tenant's waiting
-- set are named in the record, so the job's start and end (transition.lua) can leave them.
-- With an Idempotency-Key (`idem_fingerprint` not ''), a key already used answers the job it made
-- instead, and a new one is remembered in the same step, so two requests never make two jobs.
-- Answers {'ok', arrival number, 0-based place among the waiting, first event id, the wait estimate's
-- inputs: finishes in the queue's history, the oldest and newest of its last `history`, live workers},
-- {'exists', job id, fingerprint, in flight until}, or {'queue_full' | 'tenant_queue_full' | 'too_many_active', count}.
-- The job's place in line (`order`, its score in the waiting index, kept on the record for a requeue) is
-- start-time fair queueing within its priority class (Goyal, Vin & Cheng, SIGCOMM 1996): its tag is the
-- later of the class's virtual time (the tag of the job last claimed, claim_next.lua) and its tenant's
-- last finish tag (ignored when the tenant has nothing waiting); the tenant's next finish tag is the tag
-- plus its cost, 1000/weight. So tenants take turns in proportion to their weights, each in arrival
-- order. order = class_base + tag * 1024 + seq % 1024: equal tags go in arrival order, all integers (exact
-- in a double). `class_base` (0 for interactive, 2^52 for batch) puts a class after the other; `fair` holds the tags.
--! keys: job events waiting tenant_waiting owner_jobs celery_queue sequence active idem deadlines finished workers fair
--! args: job_id created_at ttl maxlen event message max_waiting max_tenant_waiting max_active idem_fingerprint idem_inflight_until deadline_at history alive_since priority tenant weight class_base fields*
if A.idem_fingerprint ~= '' then
  local known = redis.call('HMGET', K.idem, 'job_id', 'fingerprint', 'inflight_until')
  if known[1] then return {'exists', known[1], known[2], known[3] or '0'} end
end
if redis.call('EXISTS', K.job) == 1 then
  return redis.error_reply('job id already exists')
end
if tonumber(A.max_waiting) > 0 then
  local waiting = redis.call('ZCARD', K.waiting)
  if waiting >= tonumber(A.max_waiting) then return {'queue_full', waiting} end
end
-- Jobs whose records expired without an end (never taken) no longer count, here and below.
redis.call('ZREMRANGEBYSCORE', K.tenant_waiting, '-inf', tonumber(A.created_at) - tonumber(A.ttl))
if tonumber(A.max_tenant_waiting) > 0 then
  local mine = redis.call('ZCARD', K.tenant_waiting)
  if mine >= tonumber(A.max_tenant_waiting) then return {'tenant_queue_full', mine} end
end
redis.call('ZREMRANGEBYSCORE', K.active, '-inf', tonumber(A.created_at) - tonumber(A.ttl))
if tonumber(A.max_active) > 0 then
  local active = redis.call('ZCARD', K.active)
  if active >= tonumber(A.max_active) then return {'too_many_active', active} end
end
local seq = redis.call('INCR', K.sequence)
local virtual = tonumber(redis.call('HGET', K.fair, 'v:' .. A.priority) or '0')
local finish_field = 'f:' .. A.priority .. ':' .. A.tenant
local tag = virtual
if redis.call('ZCARD', K.tenant_waiting) > 0 then
  tag = math.max(virtual, tonumber(redis.call('HGET', K.fair, finish_field) or '0'))
end
redis.call('HSET', K.fair, finish_field, tag + math.max(1, math.floor(1000 / tonumber(A.weight))))
local order = tonumber(A.class_base) + tag * 1024 + seq % 1024
redis.call('HSET', K.job, 'seq', seq, 'order', order, 'active_set', K.active, 'waiting_set', K.tenant_waiting, unpack(REST))
redis.call('EXPIRE', K.job, A.ttl)
redis.call('ZADD', K.waiting, order, A.job_id)
redis.call('ZADD', K.tenant_waiting, A.created_at, A.job_id)
redis.call('EXPIRE', K.tenant_waiting, A.ttl)
redis.call('ZADD', K.active, A.created_at, A.job_id)
redis.call('EXPIRE', K.active, A.ttl)
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
local finishes = math.min(redis.call('ZCARD', K.finished), tonumber(A.history))
local oldest, newest = '0', '0'
if finishes > 0 then
  oldest = redis.call('ZRANGE', K.finished, -finishes, -finishes, 'WITHSCORES')[2]
  newest = redis.call('ZRANGE', K.finished, -1, -1, 'WITHSCORES')[2]
end
local workers = redis.call('ZCOUNT', K.workers, A.alive_since, '+inf')
return {'ok', seq, redis.call('ZRANK', K.waiting, A.job_id), event, finishes, oldest, newest, workers}
