-- A tenant's new webhook signing secret: the one it replaces still signs until `previous_until`,
-- so receivers can move to the new one while deliveries carry both signatures.
--! keys: secret
--! args: new now previous_until
local current = redis.call('HGET', K.secret, 'current')
if current then
  redis.call('HSET', K.secret, 'previous', current, 'previous_until', A.previous_until)
end
redis.call('HSET', K.secret, 'current', A.new, 'created_at', A.now)
return A.new
