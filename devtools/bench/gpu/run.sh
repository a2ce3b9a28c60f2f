#!/usr/bin/env bash
# The one command for a bare GPU machine (its own CUDA torch and transformers, nothing else of ours):
# installs the wheels `make bench-gpu-pack` put in var/gpu-wheels, then runs `make bench-models` on the
# real-shaped models, image then chat, within BUDGET_S seconds (under 8 minutes), rewriting the GPU
# section of docs/BENCHMARKS.md. The card, driver, torch, CUDA, the logs and the rewritten docs files
# go under $OUT (the device tool brings that folder back): copy $OUT/docs/* over docs/.
#
#   bash devtools/bench/gpu/run.sh            # on the GPU machine, from the repository root
#   bash devtools/bench/gpu/run.sh --dry-run  # anywhere: CPU, tiny models, --quick; docs/ left as found
#
# Environment: OUT (default var/gpu-out), PYTHON (default: the first of python3, python that imports
# torch), WHEELS (default var/gpu-wheels), BUDGET_S (default 450), BENCH_ARGS (replaces the default
# benchmark arguments below), KINDS (default "image chat": the job types benchmarked, "" for none).
# UNET=1 also compares the image pipeline's UNet options (eager, LLMB_IMAGE_CHANNELS_LAST,
# LLMB_IMAGE_COMPILE, both: `python -m devtools.bench.models.unet`) on the real-shaped model, with
# UNET_S (default 240) seconds kept for it from the budget and UNET_ARGS (default below) its arguments;
# `KINDS= UNET=1 bash devtools/bench/gpu/run.sh` runs that comparison alone.
set -uo pipefail

START=$(date +%s)
BUDGET_S=${BUDGET_S:-450}
OUT=${OUT:-var/gpu-out}
WHEELS=${WHEELS:-var/gpu-wheels}
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
# Real shapes, as the targets are set for. The static-cache sweep compiles the model per batch size on
# CUDA (minutes), so only the dynamic cache; 32 jobs a system run, the count the batching targets name.
DEFAULT_ARGS="--shapes real --caches dynamic --jobs 32"
[ "$DRY" = 1 ] && DEFAULT_ARGS="--device cpu --shapes tiny --quick"
BENCH_ARGS=${BENCH_ARGS:-$DEFAULT_ARGS}
KINDS=${KINDS-image chat}
UNET=${UNET:-0}
UNET_S=$([ "$UNET" = 1 ] && echo "${UNET_S:-240}" || echo 0)
DEFAULT_UNET_ARGS="--shapes real"
[ "$DRY" = 1 ] && DEFAULT_UNET_ARGS="--device cpu --shapes tiny --batch 2 --side 64 --steps 1 --calls 1 --rounds 1"
UNET_ARGS=${UNET_ARGS:-$DEFAULT_UNET_ARGS}

mkdir -p "$OUT/docs"
exec > >(tee -a "$OUT/run.log") 2>&1
elapsed() { echo $(($(date +%s) - START)); }
say() { echo "[run.sh $(elapsed)s] $*"; }

if [ -z "${PYTHON:-}" ]; then
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "import torch" 2>/dev/null; then
      PYTHON=$(command -v "$candidate")
      break
    fi
  done
fi
[ -n "${PYTHON:-}" ] || { say "no python that imports torch"; exit 2; }

say "facts"
{
  command -v nvidia-smi >/dev/null &&
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$PYTHON" -c 'import platform, torch, transformers
cuda = torch.cuda.is_available()
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda,
      "transformers", transformers.__version__,
      "device", torch.cuda.get_device_name(0) if cuda else "none (no CUDA)")'
} | tee "$OUT/box.txt"
BOX=$(paste -sd ';' "$OUT/box.txt" | sed 's/;/; /g')

say "installing $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into $PYTHON"
"$PYTHON" -m pip --version >/dev/null 2>&1 || { say "no pip in $PYTHON"; exit 3; }
# Same versions already there are kept; others are replaced by the pins (the wheels leave out what torch
# and transformers need, so theirs stay as the machine has them).
PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet \
  --disable-pip-version-check --no-index --find-links "$WHEELS" --no-deps "$WHEELS"/*.whl ||
  { say "pip install failed"; exit 3; }
"$PYTHON" -m pip check >"$OUT/pip-check.txt" 2>&1 || say "pip check: see pip-check.txt"
"$PYTHON" -c 'import devtools.bench.models.run, api, worker.pipelines, gunicorn, gevent, celery
from devtools.stack.servers import redis_binary
print("imports ok; redis-server:", redis_binary())' || { say "the benchmark does not import"; exit 4; }

if [ "$DRY" = 1 ]; then
  mkdir -p "$OUT/orig"
  cp docs/BENCHMARKS.md docs/bench-models*.png "$OUT/orig/"
fi
NOTE="the machine's own torch and transformers ($BOX), the other pins carried as wheels (\`make bench-gpu-pack\`, then \`bash devtools/bench/gpu/run.sh\`); image and chat in two runs (\`--only\`) merged"
# Image gets at most half of what is left, chat the rest; each run is interrupted (SIGINT: the bench
# stops its Redis, API and workers) at its share, and a finished image run is kept even if chat is not.
status=0
for kind in $KINDS; do
  left=$((BUDGET_S - UNET_S - $(elapsed) - 10))
  share=$([ "$kind" = image ] && echo $((left / 2)) || echo "$left")
  if [ "$share" -lt 30 ]; then
    say "skipping $kind: ${share}s left"
    status=5
    continue
  fi
  say "bench $kind, at most ${share}s: $BENCH_ARGS"
  # shellcheck disable=SC2086
  timeout --signal=INT --kill-after=10 "$share" "$PYTHON" -m devtools.bench.models --only "$kind" \
    $BENCH_ARGS --out docs/BENCHMARKS.md --note "$NOTE" || { status=$?; say "bench $kind ended with $status"; }
done

if [ "$UNET" = 1 ]; then
  left=$((BUDGET_S - $(elapsed) - 10))
  if [ "$left" -lt 60 ]; then
    say "skipping unet: ${left}s left"
    status=5
  else
    say "bench unet, at most ${left}s: $UNET_ARGS"
    # shellcheck disable=SC2086
    timeout --signal=INT --kill-after=10 "$left" "$PYTHON" -m devtools.bench.models.unet $UNET_ARGS \
      --out docs/BENCHMARKS.md || { status=$?; say "bench unet ended with $status"; }
  fi
fi

cp docs/BENCHMARKS.md "$OUT/docs/"
cp docs/bench-models*.png "$OUT/docs/" 2>/dev/null
git diff -- docs/BENCHMARKS.md >"$OUT/docs.diff" 2>/dev/null
if [ "$DRY" = 1 ]; then
  cp "$OUT/orig/"* docs/
fi
say "done, status $status; results in $OUT"
exit "$status"
