#!/bin/sh
# Writes redis.conf (what the command line does not say) and sentinel.conf for this pod. A pod joins the master the sentinels already name;
# with no sentinel answering (the first start), pod 0 is the master and the others its replicas.
set -eu
me="$(hostname).llmb-redis"
master=""
for i in 0 1 2; do
  found="$(redis-cli -h "llmb-redis-$i.llmb-redis" -p 26379 --raw SENTINEL get-master-addr-by-name llmb 2>/dev/null | head -n 1 || true)"
  if [ -n "$found" ]; then master="$found"; break; fi
done
if [ -z "$master" ]; then master="llmb-redis-0.llmb-redis"; fi
{
  echo "masterauth $REDIS_PASSWORD"
  echo "replica-announce-ip $me"
  # A master that has not heard from a replica for 10 s refuses writes: one cut off in a split brain
  # stops taking writes that would be lost when Sentinel turns it into a replica (docs/SENTINEL.md).
  echo "min-replicas-to-write 1"
  echo "min-replicas-max-lag 10"
  if [ "$master" != "$me" ]; then echo "replicaof $master 6379"; fi
} > /conf/redis.conf
{
  echo "port 26379"
  echo "dir /conf"
  echo "sentinel resolve-hostnames yes"
  echo "sentinel announce-hostnames yes"
  echo "sentinel announce-ip $me"
  echo "sentinel monitor llmb $master 6379 2"
  echo "sentinel auth-pass llmb $REDIS_PASSWORD"
  echo "sentinel down-after-milliseconds llmb 5000"
  echo "sentinel failover-timeout llmb 60000"
  echo "sentinel parallel-syncs llmb 1"
} > /conf/sentinel.conf
