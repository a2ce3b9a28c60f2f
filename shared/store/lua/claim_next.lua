-- claim_next (JobStore.claim_next): runs the next job of a queue by the store's order (shared/store/
-- order.py), the lowest score of its waiting index, under `holder`'s lease. Ids whose record expired
-- (or is not queued) are dropped on the way, with a permit each. Aging: when the first waiting job is
-- interactive, every `aging_every`-th claim goes instead to the first batch job (score >= `batch_base`)
-- if it has waited `aging_s` s. The claimed job's tag (its order without class and arrival parts)
-- becomes its class's virtual time in `fair` (create.lua's fair queueing). `door` '1' (a worker's
-- interactive door, worker/interactive.py): only an interactive job, no aging, and the claim spends a
-- permit, so none when none is left. Answers {'empty', ''}, {'expired', status} (its deadline passed:
-- still waiting), or lib.lua's `changed`.
--! keys: waiting fair running celery_queue webhooks waits
--! args: job_prefix batch_base aging_s aging_every door holder lease_until now maxlen buckets
--! uses: lib
local function first_from(low)
  for _ = 1, 16 do
    local row = redis.call('ZRANGEBYSCORE', K.waiting, low, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if not row[1] then return nil, nil end
    if redis.call('HGET', A.job_prefix .. row[1], 'status') == 'queued' then return row[1], tonumber(row[2]) end
    redis.call('ZREM', K.waiting, row[1])
    spend_permit()
  end
  return nil, nil
end
local base, door = tonumber(A.batch_base), A.door == '1'
local next_id, score = first_from('-inf')
if not next_id or (door and (score >= base or redis.call('LLEN', K.celery_queue) == 0)) then return {'empty', ''} end
if not door and score < base and redis.call('HINCRBY', K.fair, 'claims', 1) % tonumber(A.aging_every) == 0 then
  local aged, aged_score = first_from(A.batch_base)
  if aged and tonumber(redis.call('HGET', A.job_prefix .. aged, 'created_at')) <= tonumber(A.now) - tonumber(A.aging_s) then
    next_id, score = aged, aged_score
  end
end
local class, tag = 'interactive', math.floor(score / 1024)
if score >= base then class, tag = 'batch', math.floor((score - base) / 1024) end
if tag > tonumber(redis.call('HGET', K.fair, 'v:' .. class) or '0') then redis.call('HSET', K.fair, 'v:' .. class, tag) end
K.job, K.events = A.job_prefix .. next_id, A.job_prefix .. next_id .. ':events'
if past_deadline(A.now) then return {'expired', 'queued'} end
begin_run(A.holder, A.lease_until)
if door then spend_permit() end
return changed('queued')
