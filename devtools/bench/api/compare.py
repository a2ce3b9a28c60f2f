"""Two or more versions of the API side by side in one run: POST jobs/s, /health, job overhead, alternated.

A variant is `label[@rev][:KEY=VALUE,...]`: the tree at git revision `rev` (this checkout when absent)
with those `LLMB_` settings. Each variant gets an API with two workers for the POST rate (no job
worker), and an API with one worker plus a scripted job worker for the overhead, each with a Redis of
its own; rounds alternate
between variants, so the shared machine's noise falls on all of them alike. Ratios are to the first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from devtools import REPO
from devtools.bench.api import UNCAPPED
from devtools.bench.api.hey import hey
from devtools.bench.api.overhead import LeanClient, serial_job
from devtools.bench.api.report import OtherLoad, Row, markdown, pct, render_section
from devtools.bench.api.waits import JOB
from devtools.bench.document import write_section
from devtools.stack.deployment import Stack, http_ok
from devtools.stack.process import Service, free_port, spawn, wait_until

SCRIPTED = "devtools.pipelines:ScriptedImagePipeline"
# Where trees older than devtools/pipelines keep the same pipeline.
SCRIPTED_BEFORE = "tests.fixtures.pipelines:ScriptedImagePipeline"


@dataclass
class Variant:
    """One version under test: a tree, its settings, and (once started) its services."""

    label: str
    tree: Path
    env: dict[str, str]
    post_api: Service | None = None
    post_redis: Redis | None = None
    job_api: Service | None = None
    redis: Redis | None = None
    rates: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    overheads: list[float] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header when the variant runs with an admin key."""
        key = self.env.get("LLMB_ADMIN_KEY")
        return {"Authorization": f"Bearer {key}"} if key else {}


def parse_variant(spec: str, scratch: Path) -> Variant:
    """`label[@rev][:K=V,...]` as a Variant, checking `rev` out into `scratch` when given."""
    head, _, settings = spec.partition(":")
    label, _, rev = head.partition("@")
    env = dict(item.split("=", 1) for item in settings.split(",") if item)
    tree = REPO
    if rev:
        tree = scratch / f"tree-{label.replace(' ', '-')}"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(tree), rev], check=True
        )
    return Variant(label, tree, env)


def start_api(st: Stack, v: Variant, workers: int) -> Service:
    """gunicorn with the variant's tree first on the path and as its working directory."""
    port = free_port()
    extra = {**UNCAPPED, **v.env, "LLMB_API_BIND": f"127.0.0.1:{port}", "LLMB_API_WORKERS": str(workers)}
    env = st.child_env(extra) | {"PYTHONPATH": str(v.tree)}
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(v.tree / "api" / "gunicorn_conf.py")]
    svc = spawn(f"{v.label}-api-{port}", cmd, log_dir=st.root / "logs", env=env, port=port, cwd=v.tree)
    st.services.append(svc)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), timeout=60, what="the API", proc=svc.proc)
    return svc


def start_worker(st: Stack, v: Variant) -> None:
    """A scripted image worker from the variant's tree, waited for until ready."""
    ready = st.root / "ready" / v.label
    scripted = SCRIPTED if (v.tree / "devtools" / "pipelines").is_dir() else SCRIPTED_BEFORE
    env = st.child_env(
        {**v.env, "LLMB_QUEUES": "image", "LLMB_READY_FILE": str(ready), "LLMB_IMAGE_PIPELINE": scripted}
    )
    env["PYTHONPATH"] = str(v.tree)
    svc = spawn(
        f"{v.label}-worker", [sys.executable, "-m", "worker"], log_dir=st.root / "logs", env=env, cwd=v.tree
    )
    st.services.append(svc)
    wait_until(ready.exists, timeout=180, what=f"worker {v.label}", proc=svc.proc)


def start(root: Path, v: Variant) -> list[Stack]:
    """Two stacks: Redis with the two-worker API (no job worker), and Redis with the job API and worker."""
    name = v.label.replace(" ", "-")
    posts, jobs = Stack(root / f"{name}-post"), Stack(root / f"{name}-jobs")
    posts.start_redis()
    v.post_api = start_api(posts, v, workers=2)
    v.post_redis = Redis.from_url(posts.env["LLMB_REDIS_URL"])
    jobs.start_redis()
    v.redis = Redis.from_url(jobs.env["LLMB_REDIS_URL"])
    v.job_api = start_api(jobs, v, workers=1)
    start_worker(jobs, v)
    return [posts, jobs]


def post_round(v: Variant, body: Path, seconds: int) -> None:
    """One timed hey run of POST /v1/jobs against the variant's two-worker API."""
    assert v.post_api is not None
    assert v.post_redis is not None
    run = hey(f"http://127.0.0.1:{v.post_api.port}/v1/jobs", seconds=seconds, body=body, headers=v.headers)
    v.rates.append(run.rate(202))
    v.post_redis.flushdb()  # every round starts from an empty queue


def health_round(v: Variant, seconds: int) -> None:
    """One timed hey run of GET /health against the variant's two-worker API."""
    assert v.post_api is not None
    v.health.append(hey(f"http://127.0.0.1:{v.post_api.port}/health", seconds=seconds).rate(200))


def overhead_round(v: Variant, jobs: int) -> None:
    """`jobs` serial jobs with Prefer: wait through the variant's one-worker API and its job worker."""
    assert v.job_api is not None
    assert v.redis is not None
    client = LeanClient(f"http://127.0.0.1:{v.job_api.port}", v.headers)
    try:
        v.overheads += [serial_job(client, v.redis)["overhead"] * 1000 for _ in range(jobs)]
    finally:
        client.close()


def rows(variants: list[Variant]) -> list[Row]:
    """The table: each variant's figures, and its ratio to the first variant's."""
    first, out = variants[0], []
    for v in variants:
        rate, p50, p99 = statistics.median(v.rates), pct(v.overheads, 50), pct(v.overheads, 99)
        base = (statistics.median(first.rates), pct(first.overheads, 50), pct(first.overheads, 99))
        each = "/".join(f"{r:,.0f}" for r in v.rates)
        health = statistics.median(v.health)
        out += [
            Row(
                f"{v.label}: GET /health req/s, median",
                f"{health:,.0f} ({'/'.join(f'{r:,.0f}' for r in v.health)})",
                first.label,
                health / statistics.median(first.health),
            ),
            Row(
                f"{v.label}: POST /v1/jobs accepted/s, median",
                f"{rate:,.0f} ({each})",
                first.label,
                rate / base[0],
            ),
            Row(f"{v.label}: job overhead p50", f"{p50:.1f} ms", first.label, p50 / base[1]),
            Row(f"{v.label}: job overhead p99", f"{p99:.1f} ms", first.label, p99 / base[2]),
        ]
    return out


def measure(variants: list[Variant], root: Path, *, rounds: int, seconds: int, jobs: int) -> list[Row]:
    """Start every variant, warm each up, then alternate the rounds between them."""
    body = root / "job.json"
    body.write_text(json.dumps(JOB))
    stacks = [st for v in variants for st in start(root, v)]
    try:
        for v in variants:
            post_round(v, body, 2)
            health_round(v, 2)
            overhead_round(v, 10)
            v.rates, v.health, v.overheads = [], [], []
        for _ in range(rounds):
            for v in variants:
                post_round(v, body, seconds)
                health_round(v, seconds)
            for v in variants:
                overhead_round(v, jobs)
        return rows(variants)
    finally:
        for st in stacks:
            st.stop()


NOTES = """Each variant runs its own APIs (gunicorn, gevent), each with a Redis of its own: two workers
for the POST and /health rates (hey, c=50, pinned to one core; no job worker), one worker and a
scripted job worker for the overhead (client-observed time of a job sent with `Prefer: wait=10`, less
its run time). Every variant runs with the per-key and queue caps (`LLMB_LIMITS__KEY_*`,
`LLMB_LIMITS__QUEUE_MAX_WAITING`) raised out of reach, so the limiter counts every job but refuses none
(a version without them ignores the variables). Rounds alternate between the variants; the ratio is
to the first variant's figure (for overheads, lower is better)."""


def main(argv: list[str] | None = None) -> None:
    """Compare the variants and print the table; write it into a markdown file's section when asked."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.api.compare", description=__doc__)
    parser.add_argument("variants", nargs="+", help="label[@rev][:LLMB_X=1,LLMB_Y=2]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="each POST round")
    parser.add_argument("--jobs", type=int, default=100, help="serial jobs per overhead round")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--section", default="## API comparison")
    args = parser.parse_args(argv)
    command = " ".join(
        ["python -m devtools.bench.api.compare", *(argv if argv is not None else sys.argv[1:])]
    )
    other = OtherLoad()
    with tempfile.TemporaryDirectory(prefix="llmb-compare-") as tmp:
        variants = [parse_variant(spec, Path(tmp)) for spec in args.variants]
        try:
            found = measure(variants, Path(tmp), rounds=args.rounds, seconds=args.seconds, jobs=args.jobs)
        finally:
            for v in variants:
                if v.tree != REPO:
                    subprocess.run(
                        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(v.tree)], check=False
                    )
    section = render_section(command, markdown(found), other.cores(), heading=args.section, notes=NOTES)
    print(section)
    if args.out:
        write_section(args.out, section, args.section)


if __name__ == "__main__":
    main()
