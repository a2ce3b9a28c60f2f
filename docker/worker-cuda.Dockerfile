# A GPU worker: PyTorch's CUDA runtime image (torch 2.13.0 with its CUDA and cuDNN), the worker's
# requirements, no baked models. Models come from hub ids (LLMB_IMAGE_MODEL, LLMB_CHAT_MODEL) into the
# Hugging Face cache at HF_HOME, which Kubernetes mounts from a PersistentVolumeClaim.
# Build from the repository root: docker build -f docker/worker-cuda.Dockerfile -t llmb-worker-cuda .
# BASE_IMAGE must carry torch 2.13.0 (the build fails otherwise); pick the CUDA line your driver supports.
ARG BASE_IMAGE=pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime

FROM ${BASE_IMAGE}
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/worker.txt /tmp/requirements/
# The base image's torch satisfies the torch==2.13.0 pin, so pip keeps its CUDA build.
RUN python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__" \
 && pip install -r /tmp/requirements/worker.txt \
 && python -c "import torch; assert torch.__version__.startswith('2.13.0') and torch.version.cuda" \
 && rm -rf /tmp/requirements
RUN groupadd --system --gid 10001 llmb \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin llmb
WORKDIR /app
COPY shared/ shared/
COPY worker/ worker/
RUN python -m compileall -q shared worker
ENV PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    HF_HOME=/cache/huggingface \
    HF_HUB_DISABLE_TELEMETRY=1 \
    TOKENIZERS_PARALLELISM=false \
    LLMB_DEVICE=cuda
USER 10001:10001
ENTRYPOINT ["python", "-m", "worker"]
