-- start_mate (JobStore.start_mate): starts a waiting job as a batch mate of a delivered one, spending
-- one of the queue's task messages (permits) with it, so no later delivery comes up empty: only while
-- a permit is still in the Celery list (one already delivered elsewhere will claim a job itself), the
-- job is one of `from` (queued) and its deadline not past. Answers {'no_permit', ''}, {'expired',
-- status}, a refusal of lib.lua's `guard`, or its `changed`.
--! keys: job events waiting running celery_queue webhooks waits
--! args: from holder lease_until now maxlen buckets
--! uses: lib
local cur, refused = guard(A.from, '*')
if refused then return refused end
if past_deadline(A.now) then return {'expired', cur} end
if not spend_permit() then return {'no_permit', ''} end
begin_run(A.holder, A.lease_until)
return changed(cur)
