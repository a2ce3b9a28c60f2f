-- A request that will hold its connection open (an event stream, a long-wait) takes a place under
-- its key's and its tenant's caps: the lapsed leases leave both sets (a process that died renews
-- nothing), then the lease joins both, scored by when it lapses unless renewed. Answers 'ok', or
-- 'key' / 'tenant' naming the cap that is full (and takes nothing).
--! keys: by_key by_tenant
--! args: lease now lapse key_cap tenant_cap ttl_ms
redis.call('ZREMRANGEBYSCORE', K.by_key, '-inf', A.now)
redis.call('ZREMRANGEBYSCORE', K.by_tenant, '-inf', A.now)
if redis.call('ZCARD', K.by_key) >= tonumber(A.key_cap) then return 'key' end
if redis.call('ZCARD', K.by_tenant) >= tonumber(A.tenant_cap) then return 'tenant' end
redis.call('ZADD', K.by_key, A.lapse, A.lease)
redis.call('ZADD', K.by_tenant, A.lapse, A.lease)
redis.call('PEXPIRE', K.by_key, A.ttl_ms)
redis.call('PEXPIRE', K.by_tenant, A.ttl_ms)
return 'ok'
