-- A sender is done with one try at a delivery: the attempt ('' = none) joins the job's list (the
-- newest `keep` kept, for `ttl` seconds), and the delivery leaves the set (next_at '') or is due
-- again at next_at, in one step, so an attempt on record is always one the schedule knows of.
-- The schedule changes only while the sender's lease holds (the score is still `lease`): a delivery
-- another sender took after that lease passed is the other's to settle. Answers 1 if it changed.
--! keys: due attempts
--! args: member lease next_at attempt ttl keep
if A.attempt ~= '' then
  redis.call('RPUSH', K.attempts, A.attempt)
  redis.call('LTRIM', K.attempts, -tonumber(A.keep), -1)
  redis.call('EXPIRE', K.attempts, A.ttl)
end
local score = redis.call('ZSCORE', K.due, A.member)
if not score or tonumber(score) ~= tonumber(A.lease) then return 0 end
if A.next_at == '' then
  redis.call('ZREM', K.due, A.member)
else
  redis.call('ZADD', K.due, A.next_at, A.member)
end
return 1
