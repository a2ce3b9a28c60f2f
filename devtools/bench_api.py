"""`make bench`: the API's speed, latency and memory, each beside a baseline or target from the same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from redis import Redis

from devtools.servers import Service, free_port, spawn, wait_until
from devtools.stack import REPO, Stack, http_ok
from shared import keys

JOB = {"type": "image", "input": {"prompt": "ok", "steps": 1, "width": 64, "height": 64}}
SCRIPTED = {"LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:ScriptedImagePipeline"}
HEADING = "## API (make bench)"
INTRO = """# Benchmarks

Run `make bench` (`python -m devtools.bench_api --out docs/BENCHMARKS.md`) to measure and rewrite the
section below; `--quick` is a smoke test whose figures are not worth quoting. The figures come from a
shared, noisy 2-core machine: absolute numbers move by tens of percent between runs, so compare the
ratios against the baselines measured in the same run, not raw numbers across runs.

"""
NOTES = """Ratio: measured ÷ the same-run baseline where there is one, else ÷ the target; pass/fail is always
against the target. Every API runs under `api/gunicorn_conf.py` (gevent, `worker_connections` 1000), one
worker unless stated; the bare app runs under the same file. hey is pinned to one core (`-cpus 1`).
/health latencies are the median of 3 hey runs (each run's p99 in brackets). Job timings use the job
record's epoch floats in Redis, written on the same host as the client clock. A long-wait is in flight
while its Redis connection is blocked in XREAD (counted with CLIENT LIST)."""


@dataclass(frozen=True)
class Plan:
    """How long each part runs: the full benchmark or the --quick smoke test."""

    hey_s: int
    rounds: int
    serial_jobs: int
    waiters: int
    health_n: int


FULL = Plan(hey_s=10, rounds=2, serial_jobs=200, waiters=500, health_n=2000)
QUICK = Plan(hey_s=3, rounds=1, serial_jobs=50, waiters=500, health_n=500)


@dataclass(frozen=True)
class Row:
    """One line of the table; `ok` is None for a line that only informs."""

    metric: str
    measured: str
    baseline: str = ""
    ratio: float | None = None
    ok: bool | None = None


def judged(
    metric: str, value: float, unit: str, goal: str, *, baseline: tuple[str, float] | None = None
) -> Row:
    """A row held against its goal ("< 5" or "≥ 1000" in `unit`), its ratio taken to the baseline if any."""
    sign, target = goal.split()
    ok = value >= float(target) if sign == "≥" else value < float(target)
    ref = f"{baseline[0]} {baseline[1]:,.1f} {unit}; " if baseline else ""
    ratio = value / (baseline[1] if baseline else float(target))
    return Row(metric, f"{value:,.1f} {unit}", f"{ref}target {sign} {float(target):,g} {unit}", ratio, ok)


@dataclass(frozen=True)
class HeyRun:
    """What one hey run saw: its length, answers per status code, transport errors and latency percentiles."""

    seconds: float
    codes: dict[int, int]
    errors: int
    latency_ms: dict[int, float]

    @property
    def total(self) -> int:
        """Every request hey made, answered or not."""
        return sum(self.codes.values()) + self.errors

    def rate(self, code: int) -> float:
        """Answers with this status code per second."""
        return self.codes.get(code, 0) / self.seconds


def parse_hey(text: str) -> HeyRun:
    """Read hey's summary text (totals, status code and error distributions, latency percentiles)."""
    summary, _, errors = text.partition("Error distribution:")
    total = re.search(r"Total:\s+([\d.]+) secs", summary)
    if total is None:
        raise RuntimeError(f"hey printed no summary:\n{text}")
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", summary)}
    latency = {int(p): float(s) * 1000 for p, s in re.findall(r"(\d+)% in ([\d.]+) secs", summary)}
    failed = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", errors, re.MULTILINE))
    return HeyRun(seconds=float(total.group(1)), codes=codes, errors=failed, latency_ms=latency)


def hey(url: str, *, seconds: int = 0, n: int = 0, c: int = 50, body: Path | None = None) -> HeyRun:
    """Load `url` with hey on one core, for `seconds` when given, else for `n` requests."""
    cmd = ["hey", "-cpus", "1", "-c", str(c), *(["-z", f"{seconds}s"] if seconds else ["-n", str(n)])]
    if body is not None:
        cmd += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 300)
    return parse_hey(done.stdout)


def pct(values: list[float], p: float) -> float:
    """The nearest-rank p-th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def base(svc: Service) -> str:
    return f"http://127.0.0.1:{svc.port}"


def start_bare(st: Stack) -> Service:
    """The bare Flask app under the API's own gunicorn config file, so every gunicorn setting matches."""
    port = free_port()
    env = st.child_env({"LLMB_API_BIND": f"127.0.0.1:{port}", "LLMB_API_WORKERS": "1"})
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "api" / "gunicorn_conf.py")]
    app = "devtools.bare_app:create_app()"
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
    api = st.start_api(workers=2)
    hey(f"{base(api)}/v1/jobs", n=200, body=body)  # warm-up
    runs = [hey(f"{base(api)}/v1/jobs", seconds=plan.hey_s, body=body) for _ in range(plan.rounds)]
    rate, each = statistics.mean(r.rate(202) for r in runs), "/".join(f"{r.rate(202):,.0f}" for r in runs)
    total = sum(r.total for r in runs)
    failed = total - sum(r.codes.get(202, 0) for r in runs)
    metric = f"POST /v1/jobs accepted (LLMB_API_WORKERS=2, c=50, {plan.rounds}×{plan.hey_s} s)"
    accepted = judged(metric, rate, "jobs/s", "≥ 1000")
    share = f"{failed} of {total} ({failed / max(total, 1):.2%})"
    return [
        Row(metric, f"{accepted.measured} ({each})", accepted.baseline, accepted.ratio, accepted.ok),
        Row("  POST /v1/jobs errors (not 202)", share, "target 0", ok=not failed),
    ], api


def serial_job(client: httpx.Client, redis: Redis) -> dict[str, float]:
    """One job submitted with `Prefer: wait=10`, split into where its client-observed time went (seconds)."""
    wall, t0 = time.time(), time.perf_counter()
    reply = client.post("/v1/jobs", json=JOB, headers={"Prefer": "wait=10"})
    total = time.perf_counter() - t0
    if reply.status_code != 200 or reply.json()["status"] != "succeeded":
        raise RuntimeError(f"job did not finish within the wait: {reply.status_code} {reply.text}")
    # The record's raw epoch floats: the JSON view rounds them to milliseconds.
    raw = redis.hmget(keys.job(reply.json()["id"]), "created_at", "started_at", "finished_at")
    created, started, finished = (float(v) for v in raw)  # type: ignore[arg-type]
    return {
        "overhead": total - (finished - started),
        "submit → record created": created - wall,
        "queue wait (started − created)": started - created,
        "run (finished − started)": finished - started,
        "finish → response": wall + total - finished,
    }


def job_overhead(url: str, redis: Redis, plan: Plan) -> list[Row]:
    """p50 and p99 of client-observed job time minus the worker's run time over serial jobs."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(5):
            serial_job(client, redis)  # warm-up: the worker's first job loads its pipeline
        samples = [serial_job(client, redis) for _ in range(plan.serial_jobs)]
    ms = {k: [s[k] * 1000 for s in samples] for k in samples[0]}
    p50, p99 = pct(ms["overhead"], 50), pct(ms["overhead"], 99)
    metric = f"job overhead p50 ({plan.serial_jobs} serial jobs, Prefer: wait=10, 1 worker)"
    rows = [judged(metric, p50, "ms", "< 5"), judged("job overhead p99", p99, "ms", "< 20")]
    parts = list(ms.items())[1:]
    return rows + [Row(f"  {k} p50 / p99", f"{pct(v, 50):.1f} / {pct(v, 99):.1f} ms") for k, v in parts]


async def _long_waits(url: str, ids: list[str]) -> list[int]:
    limits = httpx.Limits(max_connections=len(ids), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=90) as client:
        replies = await asyncio.gather(*(client.get(f"/v1/jobs/{i}", params={"wait": 60}) for i in ids))
    return [r.status_code for r in replies]


def blocked_waits(redis: Redis) -> int:
    """Redis connections parked in XREAD BLOCK: one per long-wait in flight."""
    return sum(1 for c in redis.client_list() if c.get("cmd") == "xread" and "b" in c.get("flags", ""))


def settled_waits(redis: Redis, n: int) -> int:
    """The long-waits in flight once all `n` are, or once their count stopped growing for 3 s."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + 60
    while time.monotonic() < deadline and last < n:
        now = blocked_waits(redis)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > 3:
            break
        time.sleep(0.1)
    return last


@dataclass
class Waits:
    """Long-waits on queued jobs: how many were in flight before and after a measurement, how they ended."""

    wanted: int
    before: int = 0
    after: int = 0
    codes: Counter[int] = field(default_factory=Counter)

    def row(self, label: str) -> Row:
        answers = ", ".join(f"{n} × {code}" for code, n in sorted(self.codes.items()))
        ok = min(self.before, self.after) >= self.wanted and self.codes[200] == self.wanted
        metric, want = f"  long-waits in flight before / after; answers ({label})", f"{self.wanted}, all 200"
        return Row(metric, f"{self.before} / {self.after}; {answers}", want, ok=ok)


@contextmanager
def holding_waits(url: str, redis: Redis, n: int) -> Iterator[Waits]:
    """Hold `n` long-waits (`?wait=60`) on fresh queued jobs; cancel the jobs on the way out so all answer."""
    waits = Waits(n)
    with httpx.Client(base_url=url, timeout=30) as client:
        ids = [client.post("/v1/jobs", json=JOB).json()["id"] for _ in range(n)]
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(asyncio.run, _long_waits(url, ids))
            try:
                waits.before = settled_waits(redis, n)
                yield waits
                waits.after = blocked_waits(redis)
            finally:
                for job_id in ids:
                    client.post(f"/v1/jobs/{job_id}/cancel")
                waits.codes = Counter(future.result(timeout=90))


def health_latency(url: str, plan: Plan) -> tuple[float, float, str, bool]:
    """Median /health p50 and p99 (ms) over 3 hey runs, each run's p99, and whether every answer was 200."""
    runs = [hey(f"{url}/health", n=plan.health_n, c=10) for _ in range(3)]
    p50 = statistics.median(r.latency_ms.get(50, math.inf) for r in runs)
    p99s = [r.latency_ms.get(99, math.inf) for r in runs]  # hey prints no percentiles when nothing answered
    clean = all(r.codes.get(200) == r.total for r in runs)
    return p50, statistics.median(p99s), "/".join(f"{p:.0f}" for p in p99s), clean


def health_under_waits(url: str, redis: Redis, plan: Plan) -> list[Row]:
    """/health latency with no long-waits, then with `plan.waiters` long-waits in flight."""
    n, (idle50, idle99, idle_each, _) = plan.waiters, health_latency(url, plan)
    with holding_waits(url, redis, n) as waits:
        p50, p99, each, clean = health_latency(url, plan)
    loaded = judged(
        f"/health p99 with {waits.before} of {n} long-waits", p99, "ms", "< 50", baseline=("idle", idle99)
    )
    return [
        Row(f"/health p99, no long-waits (hey -n {plan.health_n} -c 10)", f"{idle99:.1f} ms [{idle_each}]"),
        Row(loaded.metric, f"{loaded.measured} [{each}]", loaded.baseline, loaded.ratio, loaded.ok and clean),
        Row("  /health p50 without / with them", f"{idle50:.1f} / {p50:.1f} ms", ratio=p50 / idle50),
        waits.row("redis pool widened"),
    ]


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


def s3_rss(st: Stack, body: Path, plan: Plan, bare_mib: float) -> Row:
    """Worker RSS of a two-worker API on S3 storage (SeaweedFS) after the same POST load as the local one."""
    try:
        st.start_s3()
    except (OSError, RuntimeError, TimeoutError) as exc:
        return Row("API worker RSS, LLMB_STORAGE=s3", f"n/a: {exc}", "target < 80 MiB", None, None)
    api = st.start_api(workers=2)
    hey(f"{base(api)}/v1/jobs", n=200, body=body)
    run = hey(f"{base(api)}/v1/jobs", seconds=plan.hey_s, body=body)
    ready = httpx.get(f"{base(api)}/ready", timeout=10).status_code
    return rss_row(
        f"POST load ({run.rate(202):,.0f}/s; 2 workers, LLMB_STORAGE=s3, /ready {ready})", api, bare_mib
    )


def run_all(plan: Plan, root: Path) -> list[Row]:
    """Start the stack piece by piece, measure each part beside its baseline, and stop everything."""
    st = Stack(root)
    body = root / "job.json"
    body.write_text(json.dumps(JOB))
    try:
        st.start_redis()
        redis = Redis.from_url(st.env["LLMB_REDIS_URL"])
        ours, bare = st.start_api(workers=1), start_bare(st)
        rows = [health_vs_bare(ours, bare, plan)]
        bare_mib = worker_rss_mib(bare)
        bare.stop()
        worker = st.start_worker(queues="image", env=SCRIPTED)
        rows += job_overhead(base(ours), redis, plan)
        worker.stop()  # from here on, jobs stay queued
        with holding_waits(base(ours), redis, plan.waiters) as waits:
            pass
        rows.append(waits.row("default settings"))
        ours.stop()
        # redis-py 8 caps a pool at 100 connections by default; the URL's option overrides that.
        wide = st.start_api(
            workers=1, env={"LLMB_REDIS_URL": st.env["LLMB_REDIS_URL"] + "?max_connections=2000"}
        )
        rows += health_under_waits(base(wide), redis, plan)
        rows.append(rss_row(f"{plan.waiters} long-waits (1 worker, local storage)", wide, bare_mib))
        wide.stop()
        post_rows, post_api = post_rate(st, body, plan)
        rows += [*post_rows, rss_row("POST load (2 workers, local storage)", post_api, bare_mib)]
        post_api.stop()
        return [*rows, s3_rss(st, body, plan, bare_mib)]
    finally:
        st.stop()


def markdown(rows: list[Row]) -> str:
    """The rows as a markdown table."""
    lines = ["| metric | measured | baseline / target | ratio | result |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.metric} | {r.measured} | {r.baseline} | {ratio} | {_VERDICT[r.ok]} |")
    return "\n".join(lines)


_VERDICT = {True: "pass", False: "**FAIL**", None: ""}


def machine() -> str:
    """This host's CPU model, core count and RAM."""
    info = Path("/proc/cpuinfo").read_text()
    cpu = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
    mem = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    ram = f"{int(mem.group(1)) / 2**20:.1f} GiB RAM" if mem else "RAM unknown"
    return f"{cpu.group(1) if cpu else 'unknown CPU'}, {os.cpu_count()} cores, {ram}"


def commit() -> str:
    """The checked-out commit, marked when the tree has uncommitted changes."""
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted changes" if _git("status", "--porcelain") else head


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *args], check=False, capture_output=True, text=True)
    return done.stdout.strip()


def render_section(command: str, table: str) -> str:
    """The markdown section: how it was run, where, when, at which commit, then the table."""
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = [f"Command: `{command}`", f"Machine: {machine()}", f"Date: {date}", f"Commit: {commit()}"]
    return "\n".join([HEADING, "", "  \n".join(facts), "", table, "", NOTES, ""])


def write_section(path: Path, section: str) -> None:
    """Replace the benchmark's section of `path`, creating the file with its intro when missing."""
    text = path.read_text() if path.exists() else INTRO
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print its table, and write it into a markdown file when asked."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_api", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test, not figures to quote")
    parser.add_argument("--out", type=Path, help=f"markdown file whose '{HEADING}' section is rewritten")
    args = parser.parse_args(argv)
    command = " ".join(["python -m devtools.bench_api", *(argv if argv is not None else sys.argv[1:])])
    with tempfile.TemporaryDirectory(prefix="llmb-bench-") as tmp:
        rows = run_all(QUICK if args.quick else FULL, Path(tmp))
    section = render_section(command, markdown(rows))
    print(section)
    if args.out:
        write_section(args.out, section)


if __name__ == "__main__":
    main()
