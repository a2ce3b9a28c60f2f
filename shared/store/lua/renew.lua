-- Extend a running job's lease, only for the worker that holds it.
--! keys: job running
--! args: holder lease_until
if redis.call('HGET', K.job, 'status') ~= 'running' or redis.call('HGET', K.job, 'holder') ~= A.holder then
  return 0
end
redis.call('HSET', K.job, 'lease_until', A.lease_until)
redis.call('ZADD', K.running, A.lease_until, redis.call('HGET', K.job, 'id'))
return 1
