-- finish (JobStore.succeed, JobStore.fail): ends a job that is one of `from` (running) as `status`
-- with its fields (REST: result or error, usage), unless `holder` ('*' = any) no longer holds it or,
-- for the reaper, its lease runs past `lapsed_before` ('' = no check). `error` is the error's JSON
-- ('' = none) and `usage` the usage to count ('' = none): see lib.lua's `end_job`.
-- Answers lib.lua's `changed` (with the budget alerts the usage made), or a refusal of its `guard`.
--! keys: job events waiting running celery_queue deadlines webhooks finished counts runs usage_totals usage_hour
--! args: status from holder lapsed_before error usage now ttl maxlen buckets job_type usage_ttl spend_prefix spend_periods spend_ttl fields*
--! uses: lib
local cur, refused = guard(A.from, A.holder)
if refused then return refused end
if not lease_lapsed(A.lapsed_before) then return {'conflict', cur} end
set_fields(REST)
end_job(cur, A.status, A.error, A.usage)
return changed(cur)
