"""GET /health requests/s of API versions beside the bare Flask app under the same gunicorn config.

`python -m devtools.bench.api.health before@<rev> after --rounds 5 --seconds 5`: each variant
(`label[@rev][:LLMB_X=1,...]`, as in devtools/bench/api/compare.py) and the bare app of `make bench` get
a gunicorn of their own (gevent, one worker unless --workers says otherwise) beside one Redis; hey
(c=50, one core) loads each in turn, round after round, so the shared machine's noise falls on all alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools import REPO
from devtools.bench.api.compare import Variant, parse_variant, start_api
from devtools.bench.api.hey import hey
from devtools.bench.api.report import OtherLoad, Row, cpu_seconds, markdown, render_section
from devtools.bench.api.run import start_bare
from devtools.bench.document import write_section
from devtools.stack.deployment import Stack
from devtools.stack.process import Service

HEADING = "## /health beside bare Flask, before and after (devtools/bench/api/health.py)"
BARE = "bare Flask"


def measure(variants: list[Variant], root: Path, *, rounds: int, seconds: int, workers: int) -> list[Row]:
    """Start every variant's API and the bare app, warm each up, then alternate the timed rounds."""
    st = Stack(root)
    try:
        st.start_redis()
        apis: dict[str, Service] = {v.label: start_api(st, v, workers) for v in variants}
        apis[BARE] = start_bare(st, workers)
        rates: dict[str, list[float]] = {label: [] for label in apis}
        cpu: dict[str, list[float]] = {label: [] for label in apis}
        for svc in apis.values():
            hey(f"http://127.0.0.1:{svc.port}/health", n=2000)  # warm-up
        for _ in range(rounds):
            for label, svc in apis.items():
                before = cpu_seconds(svc.proc.pid)
                run = hey(f"http://127.0.0.1:{svc.port}/health", seconds=seconds)
                rates[label].append(run.rate(200))
                cpu[label].append((cpu_seconds(svc.proc.pid) - before) / max(run.codes.get(200, 0), 1) * 1e6)
        return rows(rates, first=variants[0].label) + cpu_rows(cpu, first=variants[0].label)
    finally:
        st.stop()


def rows(rates: dict[str, list[float]], *, first: str) -> list[Row]:
    """Each server's median req/s and its ratio to the bare app's; then each variant's to the first's."""
    median = {label: statistics.median(found) for label, found in rates.items()}
    out = []
    for label, found in rates.items():
        each = "/".join(f"{r:,.0f}" for r in found)
        per_round = "/".join(f"{r / b:.2f}" for r, b in zip(found, rates[BARE], strict=True))
        baseline = BARE if label != BARE else ""
        measured = f"{median[label]:,.0f} ({each}; ÷ bare by round {per_round})"
        ratio = median[label] / median[BARE]
        out.append(Row(f"{label}: GET /health req/s, median", measured, baseline, ratio))
    for label in rates:
        if label not in (BARE, first):
            out.append(Row(f"{label} ÷ {first}", "", first, median[label] / median[first]))
    return out


def cpu_rows(cpu: dict[str, list[float]], *, first: str) -> list[Row]:
    """Each server's median CPU µs a request (its gunicorn processes'); the ratio is the bare app's ÷ it."""
    median = {label: statistics.median(found) for label, found in cpu.items()}
    out = []
    for label, found in cpu.items():
        each = "/".join(f"{c:.0f}" for c in found)
        baseline = BARE if label != BARE else ""
        out.append(
            Row(
                f"{label}: server CPU µs a request, median",
                f"{median[label]:.0f} ({each})",
                baseline,
                median[BARE] / median[label],
            )
        )
    for label in cpu:
        if label not in (BARE, first):
            out.append(Row(f"{first} ÷ {label}, CPU a request", "", first, median[first] / median[label]))
    return out


NOTES = """Every server runs under `api/gunicorn_conf.py` (gevent, `worker_connections` 1000) with its
tree's own settings file, the bare app (devtools/bench/api/bare_app.py: only /health, the same body)
under this tree's; the APIs share one Redis that /health never calls. hey runs c=50 on one core, each
round loads every server in turn; the figure is the median of the rounds (each round in parentheses,
with its ratio to the bare app's run of the same round). The shared 2-core machine moves absolute
numbers by tens of percent between runs: compare the ratios. The server CPU a request (user + system
time of the gunicorn master and worker over the run, from /proc, ÷ the 200s answered) is steadier under
other load than req/s; its ratio is the bare app's ÷ the server's, so above 1 where a server is cheaper."""


def main(argv: list[str] | None = None) -> None:
    """Compare the variants' /health rates with the bare app's; write the section when asked."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.api.health", description=__doc__)
    parser.add_argument("variants", nargs="+", help="label[@rev][:LLMB_X=1,LLMB_Y=2]")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5, help="each hey run")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers of each server")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    command = " ".join(["python -m devtools.bench.api.health", *(argv if argv is not None else sys.argv[1:])])
    other = OtherLoad()
    with tempfile.TemporaryDirectory(prefix="llmb-health-") as tmp:
        variants = [parse_variant(spec, Path(tmp)) for spec in args.variants]
        try:
            found = measure(
                variants, Path(tmp), rounds=args.rounds, seconds=args.seconds, workers=args.workers
            )
        finally:
            for v in variants:
                if v.tree != REPO:
                    subprocess.run(
                        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(v.tree)], check=False
                    )
    section = render_section(command, markdown(found), other.cores(), heading=HEADING, notes=NOTES)
    print(section)
    if args.out:
        write_section(args.out, section, HEADING)


if __name__ == "__main__":
    main()
