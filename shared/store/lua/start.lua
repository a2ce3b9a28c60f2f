-- start (JobStore.start): runs a job that is one of `from` (queued) under `holder`'s lease until
-- `lease_until`; refused with {'expired', status} once its deadline passed (the caller cancels it).
-- Answers lib.lua's `changed`, or a refusal of its `guard`.
--! keys: job events waiting running webhooks waits
--! args: from holder lease_until now maxlen buckets
--! uses: lib
local cur, refused = guard(A.from, '*')
if refused then return refused end
if past_deadline(A.now) then return {'expired', cur} end
begin_run(A.holder, A.lease_until)
return changed(cur)
