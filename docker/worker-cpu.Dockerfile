# A CPU worker: CPU-only torch, the worker's requirements, and (by default) the small local models baked in,
# so a minikube cluster runs jobs without downloading anything.
# Build from the repository root: docker build -f docker/worker-cpu.Dockerfile -t llmb-worker-cpu .

# Build arguments, today's values as defaults: override them behind a mirror or offline, e.g.
#   --build-arg TORCH_INDEX_URL=https://mirror.example/pytorch/whl/cpu --build-arg BASE_IMAGE=registry.example/python:3.11-slim
ARG BASE_IMAGE=python:3.11-slim
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

FROM ${BASE_IMAGE} AS build
ARG TORCH_INDEX_URL
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# PyPI's torch wheel is a CUDA build (gigabytes of CUDA libraries); the CPU wheel comes from PyTorch's
# own index (TORCH_INDEX_URL). It goes in first, so requirements/worker.txt finds torch==2.13.0 already satisfied.
RUN /opt/venv/bin/pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
COPY requirements/worker.txt /tmp/requirements/
RUN /opt/venv/bin/pip install -r /tmp/requirements/worker.txt \
 && /opt/venv/bin/python -c "import torch; assert not torch.version.cuda, torch.__version__"
WORKDIR /app
COPY shared/ shared/
COPY worker/ worker/
ARG BAKE_MODELS=1
RUN mkdir -p /opt/llmb/models \
 && if [ "$BAKE_MODELS" = "1" ]; then \
      PYTHONPATH=/app /opt/venv/bin/python -m worker.tinymodels --out /opt/llmb/models; \
    fi

FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 llmb \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin llmb
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/llmb /opt/llmb
WORKDIR /app
COPY shared/ shared/
COPY worker/ worker/
RUN python -m compileall -q shared worker
# LLMB_DATA_DIR=/opt/llmb makes the baked models the defaults (/opt/llmb/models/tiny-sd, tiny-chat).
# HOME, HF_HOME and the caches point at folders Kubernetes mounts writable (the root filesystem is not).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    HF_HOME=/cache/huggingface \
    HF_HUB_DISABLE_TELEMETRY=1 \
    TOKENIZERS_PARALLELISM=false \
    LLMB_DATA_DIR=/opt/llmb
USER 10001:10001
# SIGTERM: Celery's warm shutdown stops taking jobs and the worker hands its running ones back to the
# queue at their next step (LLMB_STOP_MODE=finish lets them finish instead), then exits.
ENTRYPOINT ["python", "-m", "worker"]
