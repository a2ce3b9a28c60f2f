-- cancel (JobStore.cancel, JobStore.expire): ends a job that is one of `from` (queued, running) as
-- canceled, unless `holder` ('*' = any) no longer holds it; `error` ('' = none) is the reason (the
-- deadline's). A queued one spends its task message (lib.lua's `end_job`).
-- Answers lib.lua's `changed`, or a refusal of its `guard`.
--! keys: job events waiting running celery_queue deadlines webhooks finished counts runs
--! args: from holder error now ttl maxlen buckets job_type
--! uses: lib
local cur, refused = guard(A.from, A.holder)
if refused then return refused end
if A.error ~= '' then redis.call('HSET', K.job, 'error', A.error) end
end_job(cur, 'canceled', A.error, '')
return changed(cur)
