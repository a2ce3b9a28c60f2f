-- Claims the next job of a queue by the store's order: the first id of its waiting index (lowest
-- score first) becomes running under the caller's lease, through transition.lua's body, which
-- follows this prologue (the store's one compare-and-set). Ids whose record expired (or is not
-- queued) are dropped from the index on the way. Answers {'empty', ''} when no job waits, else transition.lua's answer.
-- Later orders (priorities, fair share) change only the index's scores, or this choice.
--! keys: waiting running celery_queue deadlines webhooks finished counts waits runs
--! args: job_prefix new now sources expect_holder lapsed_before unexpired stamp count_attempt joins lease_until expire_s maxlen error message job_type buckets fields*
local next_id = nil
for _ = 1, 16 do
  local first = redis.call('ZRANGE', K.waiting, 0, 0)[1]
  if not first then break end
  if redis.call('HGET', A.job_prefix .. first, 'status') == 'queued' then next_id = first break end
  redis.call('ZREM', K.waiting, first)
end
if not next_id then return {'empty', ''} end
K.job = A.job_prefix .. next_id
K.events = K.job .. ':events'
--! then: transition
