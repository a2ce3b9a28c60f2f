"""`python -m devtools.bench.queueing`: issues 21 and 22's queueing benchmarks on one real stack (see
devtools/bench/queueing/report.py NOTES for what each figure is)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from devtools.bench.api import UNCAPPED
from devtools.bench.api.report import OtherLoad, Row, markdown, render_section
from devtools.bench.document import write_section
from devtools.bench.queueing.batches import Upload, enqueue_rows
from devtools.bench.queueing.client import Api
from devtools.bench.queueing.report import HEADING, NOTES
from devtools.bench.queueing.throughput import throughput_rows
from devtools.bench.queueing.waits import Waits, fairness_rows, priority_rows
from devtools.stack.deployment import WORKER_READY_S, Stack
from shared.store.batches import BatchStore

ADMIN_KEY = "llmb-bench-queueing-admin-key-0123456789"
ENV = {
    **UNCAPPED,
    "LLMB_AUTH": "on",
    "LLMB_ADMIN_KEY": ADMIN_KEY,
    "LLMB_IMAGE_PIPELINE": "devtools.pipelines:ScriptedImagePipeline",
}


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is: the issues' sizes by default; smaller ones check the benchmark itself."""

    upload_lines: int = 50_000
    batch_lines: int = 10_000
    throughput_jobs: int = 2_000
    flood_jobs: int = 10_000
    interactive: int = 200
    rate: float = 20.0
    rounds: int = 3
    timeout: float = 900.0


def new_key(admin: Api, tenant: str) -> str:
    """A new API key of its own tenant (POST /v1/keys with the admin key): its secret."""
    key: str = admin.call("POST", "/v1/keys", {"name": tenant, "tenant": tenant})["key"]
    return key


def served_models(api: Api) -> dict[str, str]:
    """The first served model of each job type (GET /v1/models), by type."""
    models: dict[str, str] = {}
    for model in api.call("GET", "/v1/models")["data"]:
        models.setdefault(model["job_type"], model["id"])
    return models


def scenarios(st: Stack, sizes: Sizes, redis: Redis, clients: list[Api]) -> list[Row]:
    """Start the API, the runner and the worker, then run each scenario in turn on them."""
    services = api_svc, runner, worker = (
        st.start_api(workers=1, wait=False),
        st.start_batches(wait=False),
        st.start_worker(queues="image", wait=False),
    )
    for svc in services:  # started together, so their imports overlap
        st.wait_ready(svc, timeout=WORKER_READY_S)
    progress("the stack is up")
    url = f"http://127.0.0.1:{api_svc.port}"
    clients.append(admin := Api(url, ADMIN_KEY))
    clients.append(tenant_a := Api(url, new_key(admin, "bench-a")))
    clients.append(tenant_b := Api(url, new_key(admin, "bench-b")))
    models, store = served_models(tenant_a), BatchStore(redis)
    up = Upload(tenant_a, store, api_svc.pid, runner.pid, models["chat"])
    rows = enqueue_rows(up, sizes.upload_lines, sizes.timeout)
    progress("the big batch: enqueued and cancelled")
    w = Waits(redis, store, worker, models["image"], sizes.interactive, sizes.rate, sizes.timeout)
    rows += throughput_rows(w, tenant_a, sizes.throughput_jobs, sizes.rounds)
    progress("throughput: batch and one by one")
    rows += priority_rows(w, tenant_a, sizes.batch_lines, sizes.rounds)
    progress("priority: interactive beside a batch")
    rows += fairness_rows(w, tenant_a, tenant_b, sizes.flood_jobs, st.root / "job.json")
    progress("fair share: tenant B beside tenant A's flood")
    return rows


def progress(done: str) -> None:
    """Say on stderr what just finished, and when (the full run takes many minutes)."""
    print(f"{time.strftime('%H:%M:%S')} {done}", file=sys.stderr, flush=True)


def run_all(sizes: Sizes, root: Path) -> list[Row]:
    """Start Redis, run the scenarios, and stop everything."""
    st = Stack(root)
    st.env.update(ENV)
    clients: list[Api] = []
    try:
        st.start_redis()
        with Redis.from_url(st.env["LLMB_REDIS_URL"]) as redis:
            return scenarios(st, sizes, redis, clients)
    finally:
        for client in clients:
            client.close()
        st.stop()


def parse(argv: list[str] | None) -> tuple[Sizes, Path | None]:
    """The sizes and the markdown file from the command line."""
    d = Sizes()
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.queueing", description=__doc__)
    parser.add_argument("--lines", type=int, default=d.upload_lines, help="lines of the chat batch uploaded")
    parser.add_argument(
        "--batch-lines",
        type=int,
        default=d.batch_lines,
        help="lines of the batch interactive jobs wait beside",
    )
    parser.add_argument(
        "--jobs", type=int, default=d.throughput_jobs, help="jobs of the throughput comparison"
    )
    parser.add_argument("--flood", type=int, default=d.flood_jobs, help="jobs tenant A floods the queue with")
    parser.add_argument("--interactive", type=int, default=d.interactive, help="interactive jobs per round")
    parser.add_argument("--rate", type=float, default=d.rate, help="interactive jobs posted per second")
    parser.add_argument(
        "--rounds",
        type=int,
        default=d.rounds,
        help="alternated rounds of the throughput pair, and pairs of priority rounds",
    )
    parser.add_argument(
        "--timeout", type=float, default=d.timeout, help="longest wait for a backlog to drain, s"
    )
    parser.add_argument("--out", type=Path, help=f"markdown file whose '{HEADING}' section is rewritten")
    a = parser.parse_args(argv)
    sizes = Sizes(a.lines, a.batch_lines, a.jobs, a.flood, a.interactive, a.rate, a.rounds, a.timeout)
    return sizes, a.out


def main(argv: list[str] | None = None) -> None:
    """Run the scenarios, print their section, and write it into a markdown file when asked."""
    sizes, out = parse(argv)
    command = " ".join(["python -m devtools.bench.queueing", *(argv if argv is not None else sys.argv[1:])])
    other = OtherLoad()
    with tempfile.TemporaryDirectory(prefix="llmb-bench-queueing-") as tmp:
        rows = run_all(sizes, Path(tmp))
    section = render_section(command, markdown(rows), other.cores(), heading=HEADING, notes=NOTES)
    print(section)
    if out:
        write_section(out, section, HEADING)
