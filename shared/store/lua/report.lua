-- A running job's worker reports progress or a token (event_type '' = nothing, only the check):
-- stored and appended as an event only while that worker still holds the job. The answer is the worker's stop check:
-- 'running' (go on), 'lost' (another worker holds it, or it was handed back), or the status it has now.
-- A job whose webhook asked for progress has one progress delivery scheduled a second ahead, at most.
--! keys: job events webhooks
--! args: holder progress event_type event_data maxlen now
local status = redis.call('HGET', K.job, 'status')
if not status then return 'missing' end
if status ~= 'running' then return status end
if redis.call('HGET', K.job, 'holder') ~= A.holder then return 'lost' end
if A.progress ~= '' then redis.call('HSET', K.job, 'progress', A.progress) end
if A.event_type ~= '' then
  redis.call('XADD', K.events, 'MAXLEN', '~', A.maxlen, '*', 'type', A.event_type, 'data', A.event_data)
  local hooked = redis.call('HGET', K.job, 'webhook_events') or ''
  if string.find(hooked, 'progress', 1, true) then
    redis.call('ZADD', K.webhooks, 'NX', tonumber(A.now) + 1, redis.call('HGET', K.job, 'id') .. '|progress')
  end
end
return status
