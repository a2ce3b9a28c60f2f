-- The one place a job's status changes (compare-and-set): it checks that the current status is
-- one of `sources`, that the lease holder is `expect_holder` ('*' = any) and, for the reaper, that
-- the lease lapsed before `lapsed_before` ('' = no check); then writes the status, its timestamp
-- and fields, moves the job between its queue's indexes and appends the status event, atomically.
-- It knows no rule of the state machine: shared/jobs.py decides every argument.
-- `joins`: the index the job enters ('running' with lease_until as score, 'waiting' with its
-- place in line (`order`), '' none); `expire_s` ('0' = keep) sets the TTL of a finished job; `message`
-- ('' = none) is pushed where the next worker takes it first.
-- `unexpired` ('' = no check) refuses the change once the job's deadline_at is past it.
-- A change into running or an end also schedules the job's webhook, when it asked for that event;
-- an end leaves the deadlines set and enters the queue's recent history (the wait estimate's).
-- Answers {outcome, status found, the record after the change (when it happened)}.
-- It also counts the end by type, status and error code, and observes the job's wait (on its first
-- start) and run (at its end) in histograms with the given bucket bounds (the metrics read these).
-- An end with `usage` (JSON of numbers, '' = none) adds it, and one job, to the hour's totals by
-- tenant, key and type (kept `usage_ttl` s) and to the all-time totals by type and tenant: once,
-- as the end itself happens once; and its device_s and tokens to the spend of its key and tenant in
-- each period of `spend_periods` (budgets), kept `spend_ttl` s. A spend that reaches `alert_at` of a
-- cap the record's `budgets` names alerts once per budget and period (`crossed`); the alerts are answered.
--! keys: job events waiting running celery_queue deadlines webhooks finished counts waits runs usage_totals usage_hour
--! args: new now sources expect_holder lapsed_before unexpired stamp count_attempt joins lease_until expire_s maxlen error message job_type buckets usage usage_ttl spend_prefix spend_periods spend_ttl fields*
local function observe(histogram, seconds)
  local bucket = '+Inf'
  for bound in string.gmatch(A.buckets, '%S+') do
    if seconds <= tonumber(bound) then bucket = bound break end
  end
  redis.call('HINCRBY', histogram, bucket, 1)
  redis.call('HINCRBY', histogram, 'count', 1)
  redis.call('HINCRBYFLOAT', histogram, 'sum', seconds)
end

-- HSETNX of `alerted_at` in the spend hash makes an alert once per budget and period; the alert is kept
-- there (`alert`), counted by scope and measure, scheduled for the webhook sender and answered.
local alerts = {}
local function crossed(spend, period, whose, budgets)
  local scope, name = string.match(whose, '^(%a+):(.*)$')
  local cap = budgets[scope]
  if type(cap) ~= 'table' or string.sub(cap.period, 1, 1) ~= string.sub(period, 1, 1) then return end
  local now = redis.call('HMGET', spend, 'device_s', 'tokens')
  local spent = {device_s = tonumber(now[1]) or 0, tokens = tonumber(now[2]) or 0}
  for _, measure in ipairs({'device_s', 'tokens'}) do
    local limit = tonumber(cap[measure])
    if limit and limit > 0 and spent[measure] >= budgets.alert_at * limit then
      if redis.call('HSETNX', spend, 'alerted_at', A.now) == 0 then return end
      local alert = cjson.encode({scope = scope, name = name, measure = measure, period = cap.period,
        period_id = period, spent = spent[measure], limit = limit, threshold = budgets.alert_at, at = tonumber(A.now)})
      redis.call('HSET', spend, 'alert', alert)
      redis.call('HINCRBY', A.spend_prefix .. 'alerts', scope .. '|' .. measure, 1)
      redis.call('ZADD', K.webhooks, 'NX', A.now, period .. ':' .. whose .. '|budget.threshold')
      alerts[#alerts + 1] = alert
      return
    end
  end
end

local cur = redis.call('HGET', K.job, 'status')
if not cur then return {'missing', ''} end
local allowed = false
for s in string.gmatch(A.sources, '%S+') do
  if s == cur then allowed = true end
end
if not allowed then return {'conflict', cur} end
if A.expect_holder ~= '*' and (redis.call('HGET', K.job, 'holder') or '') ~= A.expect_holder then
  return {'conflict', cur}
end
if A.lapsed_before ~= '' and tonumber(redis.call('HGET', K.job, 'lease_until') or '0') > tonumber(A.lapsed_before) then
  return {'conflict', cur}
end
if A.unexpired ~= '' then
  local deadline = redis.call('HGET', K.job, 'deadline_at')
  if deadline and deadline ~= '' and tonumber(deadline) <= tonumber(A.unexpired) then return {'expired', cur} end
end

local id = redis.call('HGET', K.job, 'id')
redis.call('HSET', K.job, 'status', A.new)
if A.stamp ~= '' then redis.call('HSET', K.job, A.stamp, A.now) end
for i = 1, #REST, 2 do redis.call('HSET', K.job, REST[i], REST[i + 1]) end
local attempts = tonumber(redis.call('HGET', K.job, 'attempts') or '0')
if A.count_attempt == '1' then
  attempts = redis.call('HINCRBY', K.job, 'attempts', 1)
  if attempts == 1 then observe(K.waits, tonumber(A.now) - tonumber(redis.call('HGET', K.job, 'created_at'))) end
end

redis.call('ZREM', K.waiting, id)
redis.call('ZREM', K.running, id)
if A.joins == 'running' then
  redis.call('HSET', K.job, 'lease_until', A.lease_until)
  redis.call('ZADD', K.running, A.lease_until, id)
else
  redis.call('HSET', K.job, 'holder', '', 'lease_until', 0)
  -- Back in line at its own place (create.lua's `order`; `seq` for a job made before orders existed).
  if A.joins == 'waiting' then
    redis.call('ZADD', K.waiting, redis.call('HGET', K.job, 'order') or redis.call('HGET', K.job, 'seq'), id)
  end
end
-- The tenant's waiting set (its per-tenant cap, the one create.lua named) follows the queue's.
local mine = redis.call('HGET', K.job, 'waiting_set')
if mine and mine ~= '' then
  redis.call('ZREM', mine, id)
  if A.joins == 'waiting' then redis.call('ZADD', mine, redis.call('HGET', K.job, 'created_at'), id) end
end
if A.expire_s ~= '0' then
  redis.call('EXPIRE', K.job, A.expire_s)
  redis.call('EXPIRE', K.events, A.expire_s)
  -- A finished job no longer counts against its key's active-job cap (the set create.lua named).
  local active = redis.call('HGET', K.job, 'active_set')
  if active and active ~= '' then redis.call('ZREM', active, id) end
end
if A.message ~= '' then redis.call('RPUSH', K.celery_queue, A.message) end
-- A queued job that ends without running (canceled, past its deadline) spends one task message (a
-- permit), so the queue's list stays as long as its waiting jobs (what KEDA scales on); when none
-- is left in the list, the one being delivered finds no job for it.
if cur == 'queued' and A.expire_s ~= '0' then redis.call('LPOP', K.celery_queue) end

local hooked = redis.call('HGET', K.job, 'webhook_events') or ''
if A.joins == 'running' and string.find(hooked, 'started', 1, true)
   and redis.call('HSETNX', K.job, 'webhook_started', '1') == 1 then
  redis.call('ZADD', K.webhooks, 'NX', A.now, id .. '|started')
end
if A.expire_s ~= '0' then
  local code = ''
  if A.error ~= '' then code = cjson.decode(A.error).code end
  redis.call('HINCRBY', K.counts, A.job_type .. '|' .. A.new .. '|' .. code, 1)
  local started = redis.call('HGET', K.job, 'started_at')
  if started and started ~= '' then observe(K.runs, tonumber(A.now) - tonumber(started)) end
  redis.call('ZREM', K.deadlines, id)
  redis.call('ZADD', K.finished, A.now, id)
  redis.call('ZREMRANGEBYRANK', K.finished, 0, -101)
  if string.find(hooked, 'completed', 1, true) then
    redis.call('ZADD', K.webhooks, 'NX', A.now, id .. '|completed')
  end
  if A.usage ~= '' then
    local who = redis.call('HMGET', K.job, 'owner', 'key_id')
    local row = who[1] .. '|' .. (who[2] or '') .. '|' .. A.job_type .. '|'
    local total = A.job_type .. '|' .. who[1] .. '|'
    redis.call('HINCRBY', K.usage_hour, row .. 'jobs', 1)
    redis.call('HINCRBY', K.usage_totals, total .. 'jobs', 1)
    for measure, amount in pairs(cjson.decode(A.usage)) do
      redis.call('HINCRBYFLOAT', K.usage_hour, row .. measure, amount)
      redis.call('HINCRBYFLOAT', K.usage_totals, total .. measure, amount)
    end
    redis.call('EXPIRE', K.usage_hour, A.usage_ttl)
    local used = cjson.decode(A.usage)
    local tokens = (used.prompt_tokens or 0) + (used.completion_tokens or 0)
    local budgets = redis.call('HGET', K.job, 'budgets')
    budgets = budgets and budgets ~= '' and cjson.decode(budgets) or nil
    for period in string.gmatch(A.spend_periods, '%S+') do
      for _, whose in ipairs({'key:' .. (who[2] or ''), 'tenant:' .. who[1]}) do
        local spend = A.spend_prefix .. period .. ':' .. whose
        redis.call('HINCRBYFLOAT', spend, 'device_s', used.device_s or 0)
        redis.call('HINCRBY', spend, 'tokens', tokens)
        redis.call('EXPIRE', spend, A.spend_ttl)
        if budgets then crossed(spend, period, whose, budgets) end
      end
    end
  end
end

local event = {status = A.new, attempts = attempts}
if A.error ~= '' then event.error = cjson.decode(A.error) end
redis.call('XADD', K.events, 'MAXLEN', '~', A.maxlen, '*', 'type', 'status', 'data', cjson.encode(event))
return {'ok', cur, redis.call('HGETALL', K.job), alerts}
