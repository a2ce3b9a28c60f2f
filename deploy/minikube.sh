#!/usr/bin/env bash
# LLM Backend on minikube: `deploy`, `undeploy`, `status`, or `url` (the API's URL; fails when not deployed).
# Called by `make deploy`, `make undeploy`, `make status` and `make stresstest`; docs/DEPLOYMENT.md walks
# through the same steps.
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=llmb
OVERLAY=k8s/overlays/minikube
NODE_PORT=30080
KEDA_VERSION=${KEDA_VERSION:-2.20.0}
KEDA_MANIFEST=https://github.com/kedacore/keda/releases/download/v${KEDA_VERSION}/keda-${KEDA_VERSION}.yaml
# Calico enforces the NetworkPolicies; minikube's default network plugin ignores them.
MINIKUBE_START_ARGS=${MINIKUBE_START_ARGS:---cni=calico --cpus=4 --memory=8g}

say() { printf '\n==> %s\n' "$*"; }

need() {
  command -v "$1" >/dev/null && return
  echo "error: $1 is not installed. $2" >&2
  exit 1
}

random_chars() {  # $2 characters of the set $1 (tr's notation) from the kernel's random source
  LC_ALL=C tr -dc "$1" </dev/urandom | head -c "$2" || true  # tr ends on SIGPIPE, by design
}

random_value() { random_chars 'A-Za-z0-9' "$1"; }  # $1 letters and digits

# An API key in the llmb_<id>_<secret> shape: a 12-character id and 43 base64url characters (258 bits).
random_api_key() { printf 'llmb_%s_%s' "$(random_chars 'a-z0-9' 12)" "$(random_chars 'A-Za-z0-9_-' 43)"; }

ADMIN_KEY_COMMAND="kubectl -n ${NAMESPACE} get secret llmb-keys -o jsonpath='{.data.admin-key}' | base64 -d"

ensure_secrets() {
  if ! kubectl -n "$NAMESPACE" get secret llmb-redis >/dev/null 2>&1; then
    local password
    password=$(random_value 32)
    kubectl -n "$NAMESPACE" create secret generic llmb-redis \
      --from-literal=password="$password" \
      --from-literal=url="redis://:${password}@llmb-redis:6379/0" >/dev/null
    echo "created Secret llmb-redis (random password)"
  fi
  if ! kubectl -n "$NAMESPACE" get secret llmb-s3 >/dev/null 2>&1; then
    kubectl -n "$NAMESPACE" create secret generic llmb-s3 \
      --from-literal=access-key="llmb-$(random_value 8)" \
      --from-literal=secret-key="$(random_value 40)" >/dev/null
    echo "created Secret llmb-s3 (random MinIO credentials)"
  fi
  if ! kubectl -n "$NAMESPACE" get secret llmb-keys >/dev/null 2>&1; then
    kubectl -n "$NAMESPACE" create secret generic llmb-keys \
      --from-literal=admin-key="$(random_api_key)" \
      --from-literal=autoscaler-key="$(random_api_key)" >/dev/null
    echo "created Secret llmb-keys (random admin key, and the autoscaler's key KEDA reads /v1/queues with)"
  fi
}

api_url() { echo "http://$(minikube ip):${NODE_PORT}"; }

deploy() {
  need minikube "Install it: https://minikube.sigs.k8s.io/docs/start/"
  need kubectl "Install it: https://kubernetes.io/docs/tasks/tools/"
  say "1. minikube is running"
  # shellcheck disable=SC2086  # the arguments are meant to split into words
  minikube status >/dev/null 2>&1 || minikube start $MINIKUBE_START_ARGS
  if ! kubectl -n kube-system get daemonset calico-node >/dev/null 2>&1; then
    echo "warning: no Calico in this cluster, so the NetworkPolicies are not enforced" \
         "(recreate it with: minikube delete && make deploy)" >&2
  fi
  say "2. metrics-server (CPU metrics for the API's HPA)"
  minikube addons enable metrics-server
  say "3. KEDA v${KEDA_VERSION} (scales the workers)"
  if ! kubectl get crd scaledobjects.keda.sh >/dev/null 2>&1; then
    kubectl apply --server-side -f "$KEDA_MANIFEST"
  fi
  kubectl -n keda rollout status deployment/keda-operator --timeout=5m
  kubectl -n keda rollout status deployment/keda-operator-metrics-apiserver --timeout=5m
  say "4. images, built inside minikube (the worker bakes the small models: no download at run time)"
  minikube image build -t llmb-api:dev -f docker/api.Dockerfile .
  minikube image build -t llmb-worker-cpu:dev -f docker/worker-cpu.Dockerfile .
  say "5. namespace and Secrets (random values, created once, never written to the repository)"
  kubectl apply -f k8s/base/namespace.yaml
  ensure_secrets
  say "6. the minikube overlay"
  # A Job's pod template cannot change in place; the bucket Job is idempotent, so it simply runs again.
  kubectl -n "$NAMESPACE" delete job llmb-minio-bucket --ignore-not-found
  kubectl apply -k "$OVERLAY"
  say "7. waiting for the rollouts"
  kubectl -n "$NAMESPACE" rollout status statefulset/llmb-redis --timeout=5m
  kubectl -n "$NAMESPACE" rollout status statefulset/llmb-minio --timeout=5m
  kubectl -n "$NAMESPACE" wait --for=condition=complete job/llmb-minio-bucket --timeout=5m
  for deployment in llmb-api llmb-webhooks llmb-batches llmb-worker-image llmb-worker-chat llmb-worker-embed; do
    kubectl -n "$NAMESPACE" rollout status "deployment/$deployment" --timeout=10m
  done
  say "8. the API"
  local url
  url=$(api_url)
  cat <<MSG
LLM Backend answers on ${url}   (if that address is unreachable, e.g. minikube's docker driver on
macOS, run: minikube service llmb-api -n ${NAMESPACE} --url)

Every call but /health and /ready needs a key. The admin key (random, in the Secret llmb-keys) creates
the others; read it into KEY:

  KEY=\$(${ADMIN_KEY_COMMAND})
  curl -X POST ${url}/v1/jobs -H "Authorization: Bearer \$KEY" -H 'Content-Type: application/json' \\
       -d '{"type":"image","input":{"prompt":"a red fox","width":128,"height":96,"steps":2}}'
  curl -H "Authorization: Bearer \$KEY" '${url}/v1/jobs/<id>?wait=30'
  curl -H "Authorization: Bearer \$KEY" -o fox.png ${url}/v1/jobs/<id>/result

A key for each user, its jobs seen by its tenant only (the answer shows its secret once):

  curl -X POST ${url}/v1/keys -H "Authorization: Bearer \$KEY" -H 'Content-Type: application/json' \\
       -d '{"name":"alice","tenant":"team-a"}'

make status shows pods, autoscalers and queue lengths; make stresstest loads the API; make undeploy removes it.
MSG
}

# The cluster answers and holds the deployment, or one sentence says what is missing (not kubectl's
# raw connection errors) and the script stops: 1 for `status`, 0 for `undeploy` (nothing to remove).
deployed() {
  need kubectl "Install it: https://kubernetes.io/docs/tasks/tools/"
  if ! kubectl get --raw=/readyz --request-timeout=5s >/dev/null 2>&1; then
    if ! command -v minikube >/dev/null; then
      echo "kubectl reaches no cluster and minikube, which make deploy runs it on, is not installed:" \
           "https://minikube.sigs.k8s.io/docs/start/" >&2
    elif ! minikube status >/dev/null 2>&1; then
      echo "minikube is not running, so nothing is deployed: make deploy starts it and deploys" >&2
    else
      echo "kubectl reaches no cluster (context: $(kubectl config current-context 2>/dev/null || echo none));" \
           "start minikube (make deploy does) or pick a context with kubectl config use-context" >&2
    fi
    exit "$1"
  fi
  if ! kubectl get namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "the cluster answers but holds no namespace ${NAMESPACE}: nothing is deployed (make deploy)" >&2
    exit "$1"
  fi
}

undeploy() {
  deployed 0
  # The namespace holds everything: workloads, Secrets and the Redis and MinIO volumes. KEDA stays.
  kubectl delete -k "$OVERLAY" --ignore-not-found --wait=false
  kubectl delete namespace "$NAMESPACE" --ignore-not-found
}

status() {
  deployed 1
  kubectl -n "$NAMESPACE" get pods -o wide
  echo
  kubectl -n "$NAMESPACE" get hpa
  echo
  kubectl -n "$NAMESPACE" get scaledobjects.keda.sh
  echo
  local url key
  url=$(api_url)
  echo "queues (${url}/v1/queues; load = waiting + running, what KEDA scales on), read with KEDA's key:"
  # The autoscaler's key (scope queues:read), the one KEDA sends; printf keeps it off curl's command line.
  key=$(kubectl -n "$NAMESPACE" get secret llmb-keys -o jsonpath='{.data.autoscaler-key}' 2>/dev/null \
    | base64 -d) || true
  if [ -z "$key" ]; then
    echo "no Secret llmb-keys in namespace ${NAMESPACE}: make deploy creates it"
  else
    printf 'Authorization: Bearer %s\n' "$key" | curl -fsS --max-time 5 -H @- "${url}/v1/queues" \
      | python3 -m json.tool || echo "the API did not answer"
  fi
  echo
  echo "the admin key (it creates per-user keys: docs/DEPLOYMENT.md, \"Keys\"):"
  echo "  KEY=\$(${ADMIN_KEY_COMMAND})"
  echo "  curl -H \"Authorization: Bearer \$KEY\" ${url}/v1/keys"
}

url() {
  command -v minikube >/dev/null && command -v kubectl >/dev/null || exit 1
  minikube status >/dev/null 2>&1 || exit 1
  kubectl -n "$NAMESPACE" get service llmb-api >/dev/null 2>&1 || exit 1
  api_url
}

case "${1:-}" in
  deploy | undeploy | status | url) "$1" ;;
  *) echo "usage: $0 deploy|undeploy|status|url" >&2; exit 2 ;;
esac
