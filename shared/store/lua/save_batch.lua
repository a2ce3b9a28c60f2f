-- The batch runner writes its view of a batch (`doc`). The first write of an ended view (`ended`:
-- its status, '' while it runs) also schedules the batch's webhook delivery (`member`, '' = none
-- asked for that end) in the same step: HSETNX of `ended` makes it once per batch, however often a
-- restarted runner writes the ended batch again.
--! keys: batch due
--! args: doc ended member now
redis.call('HSET', K.batch, 'doc', A.doc)
if A.ended ~= '' and redis.call('HSETNX', K.batch, 'ended', A.ended) == 1 and A.member ~= '' then
  redis.call('ZADD', K.due, 'NX', A.now, A.member)
end
return 1
