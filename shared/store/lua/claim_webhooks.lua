-- A webhook sender takes up to `limit` deliveries due by `now` and leases them: their score becomes
-- `lease_until`, so no other sender takes them meanwhile, and one whose sender dies is due again
-- when that lease passes. Answers the members taken (`job_id|event`).
--! keys: due
--! args: now lease_until limit
local found = redis.call('ZRANGEBYSCORE', K.due, '-inf', A.now, 'LIMIT', 0, tonumber(A.limit))
for _, member in ipairs(found) do
  redis.call('ZADD', K.due, 'XX', A.lease_until, member)
end
return found
