-- The job store's Redis keys, as shared/redis_keys.py names them, and the helpers every job command shares.
-- Each command script (one per command: create, start, start_mate, claim_next, report, renew, finish,
-- requeue, cancel) names the keys it takes in its `--! keys:` line; those names are the first column.
-- Placeholders: <id> a job id, <q> a queue (= job type: image, chat, embed), <tenant>, <key> an API key
-- id (or the tenant when the job has none), <hash> an Idempotency-Key's SHA-256, <hour> epoch s // 3600,
-- <period> a budget period (d20261206, m202612), <process> an API process.
--
-- layout:
--   job            llmb:job:<id>                        hash    the job's record (shared/job_record.py JobRecord)
--   events         llmb:job:<id>:events                 stream  its events: status, progress, tokens
--   waiting        llmb:queue:<q>:waiting               zset    a queue's waiting jobs, by place in line
--   running        llmb:queue:<q>:running               zset    a queue's running jobs, by lease expiry
--   fair           llmb:queue:<q>:fair                  hash    fair-share tags (shared/store/order.py)
--   finished       llmb:queue:<q>:finished              zset    a queue's last 100 ends, by when
--   workers        llmb:queue:<q>:workers               zset    workers consuming a queue, by heartbeat
--   wakes          llmb:queue:<q>:wakes                 list    wake-ups: interactive jobs behind batch ones
--   celery_queue   <q>                                  list    Celery's task messages: one permit a job
--   tenant_waiting llmb:tenant:<tenant>:waiting:<q>     zset    a tenant's waiting jobs (its cap)
--   active         llmb:apikey:<key>:active             zset    a key's queued and running jobs (its cap)
--   owner_jobs     llmb:owner:<tenant>:jobs             zset    a tenant's jobs, by creation time
--   sequence       llmb:seq                             string  arrival counter
--   idem           llmb:idem:<tenant>:<hash>            hash    the job an Idempotency-Key made
--   deadlines      llmb:deadlines                       zset    unfinished jobs with a deadline, by it
--   webhooks       llmb:webhooks:due                    zset    `<id>|<event>` deliveries, by when due
--   counts         llmb:stats:finished                  hash    ends by `type|status|error code`
--   waits          llmb:stats:wait:<q>                  hash    histogram: created to started
--   runs           llmb:stats:run:<q>                   hash    histogram: started to finished
--   usage_totals   llmb:stats:usage                     hash    all-time usage by `type|tenant|measure`
--   usage_hour     llmb:usage:<hour>                    hash    an hour's usage by `tenant|key|type|measure`
--   spend          llmb:spend:<period>:key:<key>        hash    a key's spend in a period (budgets)
--   spend          llmb:spend:<period>:tenant:<tenant>  hash    a tenant's spend in a period (budgets)
--   alerts         llmb:spend:alerts                    hash    budget alerts by `scope|measure`
-- end layout
--
-- A command loads this file after binding its keys (`K.<name>`) and arguments (`A.<name>`); the helpers
-- read the keys by these names, and the arguments `now`, `maxlen`, `buckets` (duration histogram bounds),
-- `ttl` (a finished job's), `job_type` and, to count usage, `usage_ttl`, `spend_prefix`, `spend_periods`
-- and `spend_ttl`. The state machine is Python's (shared/job_record.py): a command is told the statuses it may
-- start from (`from`) and knows no rule of its own.

-- The job's status when it is one of `from` (space-separated) and held by `holder` ('*' = any);
-- else nil and the refusal to answer: {'missing', ''} or {'conflict', status}.
local function guard(from, holder)
  local cur = redis.call('HGET', K.job, 'status')
  if not cur then return nil, {'missing', ''} end
  if not string.find(' ' .. from .. ' ', ' ' .. cur .. ' ', 1, true) then return nil, {'conflict', cur} end
  if holder ~= '*' and (redis.call('HGET', K.job, 'holder') or '') ~= holder then return nil, {'conflict', cur} end
  return cur, nil
end

-- True when the job's deadline_at is at or before `at`.
local function past_deadline(at)
  local deadline = redis.call('HGET', K.job, 'deadline_at')
  return deadline and deadline ~= '' and tonumber(deadline) <= tonumber(at)
end

-- True unless `before` is given ('' = no check) and the job's lease runs past it (the reaper's check).
local function lease_lapsed(before)
  return before == '' or tonumber(redis.call('HGET', K.job, 'lease_until') or '0') <= tonumber(before)
end

-- Writes field/value pairs (the list REST) on the record.
local function set_fields(pairs_)
  for i = 1, #pairs_, 2 do redis.call('HSET', K.job, pairs_[i], pairs_[i + 1]) end
end

-- Counts `seconds` in a duration histogram (bucket, count, sum: what the metrics read).
local function observe(histogram, seconds)
  local bucket = '+Inf'
  for bound in string.gmatch(A.buckets, '%S+') do
    if seconds <= tonumber(bound) then bucket = bound break end
  end
  redis.call('HINCRBY', histogram, bucket, 1)
  redis.call('HINCRBY', histogram, 'count', 1)
  redis.call('HINCRBYFLOAT', histogram, 'sum', seconds)
end

-- Takes the job out of its queue's waiting and running indexes and its tenant's waiting set.
local function leave_indexes(id)
  redis.call('ZREM', K.waiting, id)
  redis.call('ZREM', K.running, id)
  local mine = redis.call('HGET', K.job, 'waiting_set')
  if mine and mine ~= '' then redis.call('ZREM', mine, id) end
end

-- Puts the job in an index: 'running' scored by its lease, or 'waiting' back at its own place in line
-- (create.lua's `order`; `seq` for a job made before orders existed) and its tenant's waiting set.
local function enter_index(id, index, lease_until)
  if index == 'running' then
    redis.call('HSET', K.job, 'lease_until', lease_until)
    redis.call('ZADD', K.running, lease_until, id)
    return
  end
  redis.call('HSET', K.job, 'holder', '', 'lease_until', 0)
  if index ~= 'waiting' then return end
  redis.call('ZADD', K.waiting, redis.call('HGET', K.job, 'order') or redis.call('HGET', K.job, 'seq'), id)
  local mine = redis.call('HGET', K.job, 'waiting_set')
  if mine and mine ~= '' then redis.call('ZADD', mine, redis.call('HGET', K.job, 'created_at'), id) end
end

-- True when the job's webhook asked for `event` (started, progress, completed).
local function hooked(event)
  return string.find(redis.call('HGET', K.job, 'webhook_events') or '', event, 1, true) ~= nil
end

-- Schedules a webhook delivery of `event` at `at` (`subject` a job id, or a budget's spend).
local function schedule_webhook(subject, event, at)
  redis.call('ZADD', K.webhooks, 'NX', at, subject .. '|' .. event)
end

-- Spends one of the queue's task messages (a permit), so its Celery list stays as long as its waiting
-- jobs (what KEDA scales on); false when none is left (the one being delivered finds no job for it).
local function spend_permit()
  return redis.call('LPOP', K.celery_queue)
end

-- Appends the job's status event ({status, attempts, error}) to its stream (`attempts` read when nil).
local function append_status(status, error, attempts)
  attempts = attempts or tonumber(redis.call('HGET', K.job, 'attempts') or '0')
  local event = {status = status, attempts = attempts}
  if error ~= '' then event.error = cjson.decode(error) end
  redis.call('XADD', K.events, 'MAXLEN', '~', A.maxlen, '*', 'type', 'status', 'data', cjson.encode(event))
end

-- The command's answer after a change: {'ok', status found, the record, budget alerts its end made}.
local alerts = {}
local function changed(cur)
  return {'ok', cur, redis.call('HGETALL', K.job), alerts}
end

-- Runs the job under `holder`'s lease: status, started_at, one more attempt (its first observes the
-- wait), the running index, the `started` webhook (once per job) and the status event.
local function begin_run(holder, lease_until)
  local id = redis.call('HGET', K.job, 'id')
  redis.call('HSET', K.job, 'status', 'running', 'started_at', A.now, 'holder', holder, 'progress', '')
  local attempts = redis.call('HINCRBY', K.job, 'attempts', 1)
  if attempts == 1 then observe(K.waits, tonumber(A.now) - tonumber(redis.call('HGET', K.job, 'created_at'))) end
  leave_indexes(id)
  enter_index(id, 'running', lease_until)
  if hooked('started') and redis.call('HSETNX', K.job, 'webhook_started', '1') == 1 then
    schedule_webhook(id, 'started', A.now)
  end
  append_status('running', '', attempts)
end

-- Alerts once per budget and period when `spend` reaches `alert_at` of a cap the record's `budgets`
-- names (HSETNX of `alerted_at`): the alert is kept in the spend hash, counted by scope and measure,
-- scheduled for the webhook sender and answered.
local function alert_budget(spend, period, whose, budgets)
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
      schedule_webhook(period .. ':' .. whose, 'budget.threshold', A.now)
      alerts[#alerts + 1] = alert
      return
    end
  end
end

-- Adds an end's `usage` (JSON of numbers), and one job, to the hour's totals by tenant, key and type
-- and the all-time ones by type and tenant; and its device_s and tokens to the spend of its key and
-- tenant in each period of `spend_periods`, where a budget may alert.
local function count_usage(usage)
  local who = redis.call('HMGET', K.job, 'owner', 'key_id')
  local row = who[1] .. '|' .. (who[2] or '') .. '|' .. A.job_type .. '|'
  local total = A.job_type .. '|' .. who[1] .. '|'
  redis.call('HINCRBY', K.usage_hour, row .. 'jobs', 1)
  redis.call('HINCRBY', K.usage_totals, total .. 'jobs', 1)
  local used = cjson.decode(usage)
  for measure, amount in pairs(used) do
    redis.call('HINCRBYFLOAT', K.usage_hour, row .. measure, amount)
    redis.call('HINCRBYFLOAT', K.usage_totals, total .. measure, amount)
  end
  redis.call('EXPIRE', K.usage_hour, A.usage_ttl)
  local tokens = (used.prompt_tokens or 0) + (used.completion_tokens or 0)
  local budgets = redis.call('HGET', K.job, 'budgets')
  budgets = budgets and budgets ~= '' and cjson.decode(budgets) or nil
  for period in string.gmatch(A.spend_periods, '%S+') do
    for _, whose in ipairs({'key:' .. (who[2] or ''), 'tenant:' .. who[1]}) do
      local spend = A.spend_prefix .. period .. ':' .. whose
      redis.call('HINCRBYFLOAT', spend, 'device_s', used.device_s or 0)
      redis.call('HINCRBY', spend, 'tokens', tokens)
      redis.call('EXPIRE', spend, A.spend_ttl)
      if budgets then alert_budget(spend, period, whose, budgets) end
    end
  end
end

-- Ends the job (`status`: succeeded, failed, canceled) found `cur`: finished_at, out of every index
-- and its key's active set, the record's TTL, a queued job's permit spent, counted by type, status and
-- error code, its run observed, out of the deadlines, into the queue's recent history (the wait
-- estimate's), the `completed` webhook, its `usage` counted ('' = none) and the status event.
local function end_job(cur, status, error, usage)
  local id = redis.call('HGET', K.job, 'id')
  redis.call('HSET', K.job, 'status', status, 'finished_at', A.now)
  leave_indexes(id)
  enter_index(id, '', 0)
  redis.call('EXPIRE', K.job, A.ttl)
  redis.call('EXPIRE', K.events, A.ttl)
  local active = redis.call('HGET', K.job, 'active_set')
  if active and active ~= '' then redis.call('ZREM', active, id) end
  if cur == 'queued' then spend_permit() end
  local code = error ~= '' and cjson.decode(error).code or ''
  redis.call('HINCRBY', K.counts, A.job_type .. '|' .. status .. '|' .. code, 1)
  local started = redis.call('HGET', K.job, 'started_at')
  if started and started ~= '' then observe(K.runs, tonumber(A.now) - tonumber(started)) end
  redis.call('ZREM', K.deadlines, id)
  redis.call('ZADD', K.finished, A.now, id)
  redis.call('ZREMRANGEBYRANK', K.finished, 0, -101)
  if hooked('completed') then schedule_webhook(id, 'completed', A.now) end
  if usage ~= '' then count_usage(usage) end
  append_status(status, error)
end

-- Creating a job (create.lua).

-- The refusal of a new job when its queue already holds `max_waiting` waiting jobs, its tenant
-- `max_tenant_waiting` of them, or its key `max_active` queued and running ones ('0' = no cap): nil
-- when none is reached. Jobs whose records expired without an end (never taken) no longer count.
local function admit()
  if tonumber(A.max_waiting) > 0 then
    local waiting = redis.call('ZCARD', K.waiting)
    if waiting >= tonumber(A.max_waiting) then return {'queue_full', waiting} end
  end
  local forgotten = tonumber(A.created_at) - tonumber(A.ttl)
  redis.call('ZREMRANGEBYSCORE', K.tenant_waiting, '-inf', forgotten)
  if tonumber(A.max_tenant_waiting) > 0 then
    local mine = redis.call('ZCARD', K.tenant_waiting)
    if mine >= tonumber(A.max_tenant_waiting) then return {'tenant_queue_full', mine} end
  end
  redis.call('ZREMRANGEBYSCORE', K.active, '-inf', forgotten)
  if tonumber(A.max_active) > 0 then
    local active = redis.call('ZCARD', K.active)
    if active >= tonumber(A.max_active) then return {'too_many_active', active} end
  end
  return nil
end

-- The new job's place in line (`order`: its score in the waiting index, kept on the record for a
-- requeue), by start-time fair queueing within its priority class (Goyal, Vin & Cheng, SIGCOMM 1996):
-- its tag is the later of the class's virtual time (the tag of the job last claimed, claim_next.lua)
-- and its tenant's last finish tag (ignored when the tenant has nothing waiting); the tenant's next
-- finish tag is the tag plus its cost, 1000/weight. So tenants take turns in proportion to their
-- weights, each in arrival order. order = class_base + tag * 1024 + seq % 1024: equal tags go in
-- arrival order, all integers (exact in a double). `class_base` (0 for interactive, 2^52 for batch)
-- puts a class after the other; `fair` holds the tags.
local function place_in_line(seq)
  local virtual = tonumber(redis.call('HGET', K.fair, 'v:' .. A.priority) or '0')
  local finish_field = 'f:' .. A.priority .. ':' .. A.tenant
  local tag = virtual
  if redis.call('ZCARD', K.tenant_waiting) > 0 then
    tag = math.max(virtual, tonumber(redis.call('HGET', K.fair, finish_field) or '0'))
  end
  redis.call('HSET', K.fair, finish_field, tag + math.max(1, math.floor(1000 / tonumber(A.weight))))
  return tonumber(A.class_base) + tag * 1024 + seq % 1024
end

-- An interactive job that arrives while batch jobs wait pushes a wake-up (at most `max_wakes` kept):
-- a worker whose threads are all busy with batch jobs claims it through its interactive door
-- (worker/interactive.py) instead of waiting for one of them to end.
local function wake_the_door()
  if A.priority == 'interactive' and redis.call('ZCOUNT', K.waiting, A.batch_base, '+inf') > 0 then
    redis.call('LPUSH', K.wakes, A.job_id)
    redis.call('LTRIM', K.wakes, 0, tonumber(A.max_wakes) - 1)
  end
end

-- The wait estimate's inputs: finishes in the queue's history (its last `history`), the oldest and
-- newest of them, and the workers alive since `alive_since`.
local function wait_inputs()
  local finishes = math.min(redis.call('ZCARD', K.finished), tonumber(A.history))
  local oldest, newest = '0', '0'
  if finishes > 0 then
    oldest = redis.call('ZRANGE', K.finished, -finishes, -finishes, 'WITHSCORES')[2]
    newest = redis.call('ZRANGE', K.finished, -1, -1, 'WITHSCORES')[2]
  end
  return finishes, oldest, newest, redis.call('ZCOUNT', K.workers, A.alive_since, '+inf')
end
