-- A running job's worker reports progress or a token: stored and appended as an event only
-- while that worker still holds the job. The answer doubles as the worker's stop check:
-- 'running' (go on), 'lost' (another worker holds it), or the status it has now.
-- KEYS: job, events
-- ARGV: holder, progress_json ('' = leave), event_type, event_data, maxlen
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status ~= 'running' then return status end
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 'lost' end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[2]) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', ARGV[3], 'data', ARGV[4])
return status
