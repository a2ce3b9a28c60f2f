"""`make bench`: the API's speed, latency and memory, each beside a baseline or target from the same run."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from redis import Redis

from devtools import REPO
from devtools.bench.api import UNCAPPED
from devtools.bench.api.hey import hey
from devtools.bench.api.overhead import job_overhead
from devtools.bench.api.report import (
    HEADING,
    OtherLoad,
    Row,
    cpu_seconds,
    judged,
    markdown,
    render_section,
)
from devtools.bench.api.waits import JOB, health_under_waits, holding_waits
from devtools.bench.document import write_section
from devtools.stack.deployment import Stack, http_ok
from devtools.stack.process import Service, free_port, spawn, wait_until

SCRIPTED = {"LLMB_IMAGE_PIPELINE": "devtools.pipelines:ScriptedImagePipeline"}


@dataclass(frozen=True)
class Plan:
    """How long each part runs: the full benchmark or the --quick smoke test."""

    hey_s: int
    rounds: int
    serial_jobs: int
    waiters: int
    health_n: int


FULL = Plan(hey_s=10, rounds=3, serial_jobs=200, waiters=500, health_n=2000)
QUICK = Plan(hey_s=3, rounds=1, serial_jobs=50, waiters=500, health_n=500)


def base(svc: Service) -> str:
    return f"http://127.0.0.1:{svc.port}"


def start_bare(st: Stack, workers: int = 1) -> Service:
    """The bare Flask app under the API's own gunicorn config file, so every gunicorn setting matches."""
    port = free_port()
    env = st.child_env({"LLMB_API_BIND": f"127.0.0.1:{port}", "LLMB_API_WORKERS": str(workers)})
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "api" / "gunicorn_conf.py")]
    app = "devtools.bench.api.bare_app:create_app()"
    svc = spawn(f"bare-{port}", [*cmd, app], log_dir=st.root / "logs", env=env, port=port)
    st.services.append(svc)
    wait_until(lambda: http_ok(f"{base(svc)}/health"), timeout=60, what="the bare app", proc=svc.proc)
    return svc


def health_vs_bare(ours: Service, bare: Service, plan: Plan) -> Row:
    """/health requests/s of the API and of the bare app, alternated A B A B."""
    rates: dict[str, list[float]] = {"api": [], "bare": []}
    for svc in (ours, bare):
        hey(f"{base(svc)}/health", n=500)  # warm-up
    for _ in range(plan.rounds):
        for name, svc in (("api", ours), ("bare", bare)):
            rates[name].append(hey(f"{base(svc)}/health", seconds=plan.hey_s).rate(200))
    api, bare_rps = statistics.mean(rates["api"]), statistics.mean(rates["bare"])
    each = {k: "/".join(f"{r:,.0f}" for r in v) for k, v in rates.items()}
    metric, ratio = f"/health req/s, c=50, {plan.rounds}×{plan.hey_s} s each, alternated", api / bare_rps
    bare_text = f"bare Flask {bare_rps:,.0f} ({each['bare']}); target ≥ 0.9×"
    return Row(metric, f"{api:,.0f} ({each['api']})", bare_text, ratio, ratio >= 0.9)


def post_rate(st: Stack, body: Path, plan: Plan) -> tuple[list[Row], Service]:
    """Accepted POST /v1/jobs per second with two API workers and no job worker, and the error rate."""
    api = st.start_api(workers=2, env=UNCAPPED)
    assert st.redis is not None
    hey(f"{base(api)}/v1/jobs", n=1000, body=body)  # warm-up
    runs, others, cpu0 = [], [], cpu_seconds(api.proc.pid, st.redis.proc.pid)
    for _ in range(plan.rounds):
        other = OtherLoad()
        runs.append(hey(f"{base(api)}/v1/jobs", seconds=plan.hey_s, body=body))
        others.append(f"{other.cores():.1f}")
    cpu = cpu_seconds(api.proc.pid, st.redis.proc.pid) - cpu0
    # The median: one run disturbed by the shared machine's other load moves it least.
    rate, each = statistics.median(r.rate(202) for r in runs), "/".join(f"{r.rate(202):,.0f}" for r in runs)
    accepted, total = sum(r.codes.get(202, 0) for r in runs), sum(r.total for r in runs)
    metric = f"POST /v1/jobs accepted, median (LLMB_API_WORKERS=2, c=50, {plan.rounds}×{plan.hey_s} s)"
    row = judged(metric, rate, "jobs/s", "≥ 1000")
    per_job, failed = cpu / max(accepted, 1) * 1000, total - accepted
    return [
        replace(row, measured=f"{row.measured} ({each}; other processes {'/'.join(others)} cores)"),
        Row(
            "  POST CPU per accepted job, API workers + Redis",
            f"{per_job:.2f} ms",
            f"2 cores ÷ it: {2000 / per_job:,.0f} jobs/s",
        ),
        Row(
            "  POST /v1/jobs errors (not 202)",
            f"{failed} of {total} ({failed / max(total, 1):.2%})",
            "target 0",
            ok=not failed,
        ),
    ], api


def worker_rss_mib(master: Service) -> float:
    """The largest VmRSS among the gunicorn master's worker processes, in MiB."""
    rss = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            status = (stat.parent / "status").read_text() if ppid == master.proc.pid else ""
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        rss += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")]
    if not rss:
        raise RuntimeError(f"no gunicorn worker under pid {master.proc.pid}")
    return max(rss)


def rss_row(what: str, master: Service, bare_mib: float) -> Row:
    mib = worker_rss_mib(master)
    return judged(f"API worker RSS after {what}", mib, "MiB", "< 80", baseline=("bare Flask", bare_mib))


def s3_rss(st: Stack, body: Path, plan: Plan, redis: Redis, bare_mib: float) -> list[Row]:
    """Worker RSS on S3 storage (SeaweedFS): two workers after the POST load, one after the long-waits."""
    try:
        st.start_s3()
    except (OSError, RuntimeError, TimeoutError) as exc:
        return [Row("API worker RSS, LLMB_STORAGE=s3", f"n/a: {exc}", "target < 80 MiB", None, None)]
    api = st.start_api(workers=2, env=UNCAPPED)
    hey(f"{base(api)}/v1/jobs", n=200, body=body)
    run = hey(f"{base(api)}/v1/jobs", seconds=plan.hey_s, body=body)
    ready = httpx.get(f"{base(api)}/ready", timeout=10).status_code
    what = f"POST load ({run.rate(202):,.0f}/s; 2 workers, LLMB_STORAGE=s3, /ready {ready})"
    rows = [rss_row(what, api, bare_mib)]
    api.stop()
    one = st.start_api(workers=1, env=UNCAPPED)
    hey(f"{base(one)}/health", n=plan.health_n, c=10)
    with holding_waits(base(one), redis, plan.waiters) as held:
        pass
    rows.append(rss_row(f"{held.before} long-waits (1 worker, LLMB_STORAGE=s3)", one, bare_mib))
    one.stop()
    return rows


def run_all(plan: Plan, root: Path) -> list[Row]:
    """Start the stack piece by piece, measure each part beside its baseline, and stop everything."""
    st = Stack(root)
    body = root / "job.json"
    body.write_text(json.dumps(JOB))
    try:
        st.start_redis()
        redis = Redis.from_url(st.env["LLMB_REDIS_URL"])
        ours, bare = st.start_api(workers=1, env=UNCAPPED), start_bare(st)
        rows = [health_vs_bare(ours, bare, plan)]
        bare_mib = worker_rss_mib(bare)
        bare.stop()
        rows.append(rss_row("/health load (1 worker, local storage)", ours, bare_mib))
        worker = st.start_worker(queues="image", env=SCRIPTED)
        rows += job_overhead(base(ours), redis, plan.serial_jobs)
        worker.stop()  # from here on, jobs stay queued
        rows += health_under_waits(base(ours), redis, plan.waiters, plan.health_n)
        rows.append(rss_row(f"{plan.waiters} long-waits (1 worker, local storage)", ours, bare_mib))
        ours.stop()
        post_rows, post_api = post_rate(st, body, plan)
        rows += [*post_rows, rss_row("POST load (2 workers, local storage)", post_api, bare_mib)]
        post_api.stop()
        return [*rows, *s3_rss(st, body, plan, redis, bare_mib)]
    finally:
        st.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print its table, and write it into a markdown file when asked."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.api", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test, not figures to quote")
    parser.add_argument("--out", type=Path, help=f"markdown file whose '{HEADING}' section is rewritten")
    args = parser.parse_args(argv)
    command = " ".join(["python -m devtools.bench.api", *(argv if argv is not None else sys.argv[1:])])
    other = OtherLoad()
    with tempfile.TemporaryDirectory(prefix="llmb-bench-") as tmp:
        rows = run_all(QUICK if args.quick else FULL, Path(tmp))
    section = render_section(command, markdown(rows), other.cores())
    print(section)
    if args.out:
        write_section(args.out, section, HEADING)
