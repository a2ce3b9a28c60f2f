-- requeue (JobStore.hand_back, JobStore.release_lost): puts a job that is one of `from` (running) back
-- in line at its own place, attempts unchanged, unless `holder` no longer holds it or, for the reaper,
-- its lease runs past `lapsed_before` ('' = no check); pushes `message` ('' = none) where the next
-- worker takes it first. Answers lib.lua's `changed`, or a refusal of its `guard`.
--! keys: job events waiting running celery_queue
--! args: from holder lapsed_before message maxlen
--! uses: lib
local cur, refused = guard(A.from, A.holder)
if refused then return refused end
if not lease_lapsed(A.lapsed_before) then return {'conflict', cur} end
local id = redis.call('HGET', K.job, 'id')
redis.call('HSET', K.job, 'status', 'queued', 'progress', '')
leave_indexes(id)
enter_index(id, 'waiting', 0)
if A.message ~= '' then redis.call('RPUSH', K.celery_queue, A.message) end
append_status('queued', '')
return changed(cur)
