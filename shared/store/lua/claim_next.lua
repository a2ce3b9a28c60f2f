-- Claims the next job of a queue by the store's order (shared/store/order.py): the lowest score of its
-- waiting index becomes running under the caller's lease, through transition.lua's body, which follows
-- this prologue (the store's one compare-and-set). Ids whose record expired (or is not queued) are
-- dropped from the index on the way, with a permit each. Aging: when the first waiting job is interactive, every
-- `aging_every`-th such claim goes instead to the first batch job (score >= `batch_base`) if it has
-- waited `aging_s` s. The claimed job's tag (its order without class and arrival parts) becomes its class's virtual time in `fair` (create.lua's
-- fair queueing). Answers {'empty', ''} when no job waits, else transition.lua's answer.
--! keys: waiting fair running celery_queue deadlines webhooks finished counts waits runs usage_totals usage_hour
--! args: job_prefix batch_base aging_s aging_every new now sources expect_holder lapsed_before unexpired stamp count_attempt joins lease_until expire_s maxlen error message job_type buckets usage usage_ttl spend_prefix spend_periods spend_ttl fields*
local base = tonumber(A.batch_base)

local function first_from(low)
  for _ = 1, 16 do
    local row = redis.call('ZRANGEBYSCORE', K.waiting, low, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if not row[1] then return nil, nil end
    if redis.call('HGET', A.job_prefix .. row[1], 'status') == 'queued' then return row[1], tonumber(row[2]) end
    redis.call('ZREM', K.waiting, row[1])
    redis.call('LPOP', K.celery_queue)  -- its permit goes with it (transition.lua does so for an end)
  end
  return nil, nil
end

local next_id, score = first_from('-inf')
if not next_id then return {'empty', ''} end
if score < base and redis.call('HINCRBY', K.fair, 'claims', 1) % tonumber(A.aging_every) == 0 then
  local aged, aged_score = first_from(A.batch_base)
  if aged and tonumber(redis.call('HGET', A.job_prefix .. aged, 'created_at')) <= tonumber(A.now) - tonumber(A.aging_s) then
    next_id, score = aged, aged_score
  end
end
local class, tag = 'interactive', math.floor(score / 1024)
if score >= base then class, tag = 'batch', math.floor((score - base) / 1024) end
if tag > tonumber(redis.call('HGET', K.fair, 'v:' .. class) or '0') then
  redis.call('HSET', K.fair, 'v:' .. class, tag)
end
K.job = A.job_prefix .. next_id
K.events = K.job .. ':events'
--! then: transition
