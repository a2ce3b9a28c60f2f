#!/usr/bin/env bash
# `make stresstest`: hey against a running API for DURATION with CONCURRENCY clients.
#   LOAD=health  GET /health: the API alone (watch its HPA add pods when deployed)
#   LOAD=jobs    POST /v1/jobs of small embed jobs: the queue and the workers too (watch KEDA scale
#                llmb-worker-embed: `make status`, `kubectl -n llmb get hpa -w`); 429 and 503 answers are
#                the per-key and per-queue limits at work, counted in hey's status code distribution
# URL defaults to the minikube deployment, else http://127.0.0.1:$PORT; KEY (or LLMB_API_KEY) is sent
# as the Bearer key when set (the jobs load needs one where auth is on). It first checks that URL answers
# /health and, for LOAD=jobs, that a POST is not refused for want of a key (exit 3 with what to do).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60s}
CONCURRENCY=${CONCURRENCY:-50}
LOAD=${LOAD:-health}
KEY=${KEY:-${LLMB_API_KEY:-}}

command -v hey >/dev/null || { echo "hey is not installed (apt-get install hey)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed (apt-get install curl)" >&2; exit 1; }
[[ "$DURATION" =~ ^[0-9]+(ms|s|m|h)$ ]] || { echo "DURATION must read like 30s, 5m or 1h, not '$DURATION'" >&2; exit 2; }
[[ "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || { echo "CONCURRENCY must be a whole number of clients, not '$CONCURRENCY'" >&2; exit 2; }
URL=${URL:-$(deploy/minikube.sh url 2>/dev/null || echo "http://127.0.0.1:${PORT:-8000}")}
auth=()
[ -n "$KEY" ] && auth=(-H "Authorization: Bearer ${KEY}")

# Before the load: something must answer, and (for jobs) take our key; else hey only counts errors.
answer() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }
health=$(answer "${URL}/health")
if [ "$health" != 200 ]; then
  echo "nothing healthy answers ${URL}/health (HTTP ${health:-000}): start the API (make run), or pass URL= (or PORT=) to name a running one" >&2
  exit 3
fi
if [ "$LOAD" = jobs ]; then  # an empty body: refused for want of a key, else a 422, never a job
  probe=$(answer -X POST -H 'Content-Type: application/json' "${auth[@]}" -d '{}' "${URL}/v1/jobs")
  if [ "$probe" = 401 ] || [ "$probe" = 403 ]; then
    echo "${URL} refuses POST /v1/jobs (HTTP ${probe}): its auth is on; pass KEY=<an API key with jobs:write> or set LLMB_API_KEY" >&2
    exit 3
  fi
fi

case "$LOAD" in
  health)
    echo "GET ${URL}/health for ${DURATION} with ${CONCURRENCY} clients"
    exec hey -z "$DURATION" -c "$CONCURRENCY" "${auth[@]}" "${URL}/health" ;;
  jobs)
    echo "POST ${URL}/v1/jobs (embed jobs) for ${DURATION} with ${CONCURRENCY} clients; then see ${URL}/v1/queues"
    exec hey -z "$DURATION" -c "$CONCURRENCY" -m POST -T application/json "${auth[@]}" \
      -d '{"type":"embed","input":{"input":"a small text to embed under load"}}' "${URL}/v1/jobs" ;;
  *)
    echo "LOAD must be health (the API alone) or jobs (POST /v1/jobs: the workers too), not '$LOAD'" >&2
    exit 2 ;;
esac
