# The API image: Flask under gunicorn (gevent), requirements/api.txt only (no torch, no model libraries);
# the webhook sender runs from it too.
# Build from the repository root: docker build -f docker/api.Dockerfile -t llmb-api .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/api.txt /tmp/requirements/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r /tmp/requirements/api.txt

FROM python:3.11-slim
# A numeric user, so Kubernetes can verify runAsNonRoot from the image alone.
RUN groupadd --system --gid 10001 llmb \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin llmb
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY shared/ shared/
COPY api/ api/
# The webhook sender runs from this image too (`python -m webhooks`): it needs nothing more.
COPY webhooks/ webhooks/
RUN python -m compileall -q shared api webhooks
# HOME on /tmp: the root filesystem is read-only in Kubernetes and /tmp is its only writable folder.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    LLMB_API_BIND=0.0.0.0:8000
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "-c", "api/gunicorn_conf.py"]
