-- Starts a waiting job as a batch mate of a delivered one, spending one of the queue's task messages
-- (permits) with it, so no later delivery comes up empty: only when a permit is still in the Celery
-- list (one already delivered elsewhere will claim a job itself), the job is queued and its deadline
-- not past. Then transition.lua's body follows this prologue and starts it (it cannot refuse: its
-- checks are made here first). Answers {'no_permit', ''}, {'conflict', status}, {'missing', ''},
-- {'expired', status}, else transition.lua's answer.
--! keys: job events waiting running celery_queue deadlines webhooks finished counts waits runs usage_totals usage_hour
--! args: new now sources expect_holder lapsed_before unexpired stamp count_attempt joins lease_until expire_s maxlen error message job_type buckets usage usage_ttl spend_prefix spend_periods spend_ttl fields*
local status = redis.call('HGET', K.job, 'status')
if not status then return {'missing', ''} end
if status ~= 'queued' then return {'conflict', status} end
local deadline = redis.call('HGET', K.job, 'deadline_at')
if deadline and deadline ~= '' and tonumber(deadline) <= tonumber(A.unexpired) then return {'expired', status} end
if not redis.call('LPOP', K.celery_queue) then return {'no_permit', ''} end
--! then: transition
