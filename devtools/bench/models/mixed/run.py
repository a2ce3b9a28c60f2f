"""`make bench-chat-mixed`: issue 17's mixed chat load (steady and all at once) on each variant's own stack.

A variant is `label[@rev][:KEY=VALUE,...]` as in devtools/bench/api/compare.py: the tree at git revision
`rev` (this checkout when absent) with those `LLMB_` settings. Ratios are to the first variant.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools import REPO
from devtools.bench.api.compare import Variant, parse_variant
from devtools.bench.api.report import OtherLoad, cpu_seconds
from devtools.bench.document import machine, write_section
from devtools.bench.models.mixed.client import LoadRun, api_client, run_load
from devtools.bench.models.mixed.plan import at_once, job_inputs, steady_offsets
from devtools.bench.models.mixed.report import HEADING, Summary, render, summarise
from devtools.bench.models.mixed.stacks import VariantStack, revision, start_stack

WARM_UP_JOBS = 32  # a wide batch, so a variant's first round meets no first-time shapes
WARM_UP_TOKENS = 32


def loads(args: argparse.Namespace) -> dict[str, list[float]]:
    """Each load's name and its posting offsets in seconds."""
    return {
        f"steady {args.rate:g} jobs/s": steady_offsets(args.seed, args.jobs, args.rate),
        "all at once": at_once(args.jobs),
    }


def one_load(stack: VariantStack, inputs: list[dict[str, Any]], offsets: list[float]) -> LoadRun:
    """Run one load on an idle stack through a fresh client; say what it took and what else ran."""
    stack.wait_idle()
    other, worker_cpu = OtherLoad(), cpu_seconds(stack.worker_pid)
    with api_client(stack.base_url, len(inputs)) as client:
        run = replace(run_load(client, inputs, offsets), other_cores=other.cores())
    print(
        f"  {run.tokens} tokens, {run.succeeded} of {len(run.jobs)} succeeded, {run.wall_s:.1f} s; "
        f"worker CPU {cpu_seconds(stack.worker_pid) - worker_cpu:.1f} s; "
        f"other processes {run.other_cores:.2f} cores",
        flush=True,
    )
    return run


def settled_load(
    stack: VariantStack, inputs: list[dict[str, Any]], offsets: list[float], args: argparse.Namespace
) -> LoadRun:
    """One load, run again (up to --reruns times) while other processes kept over --max-other cores busy;
    the least disturbed try."""
    tries = [one_load(stack, inputs, offsets)]
    while tries[-1].other_cores > args.max_other and len(tries) <= args.reruns:
        tries.append(one_load(stack, inputs, offsets))
    return replace(min(tries, key=lambda run: run.other_cores), reruns=len(tries) - 1)


def measure(stacks: list[VariantStack], args: argparse.Namespace) -> list[Summary]:
    """Warm every variant up, then alternate rounds of each load between them (order flipped every round)."""
    inputs = job_inputs(args.seed, args.jobs)
    warm = [{**job, "max_tokens": WARM_UP_TOKENS} for job in inputs[:WARM_UP_JOBS]]
    for st in stacks:
        one_load(st, warm, at_once(len(warm)))
    runs: dict[tuple[str, str], list[LoadRun]] = {}
    for number in range(args.rounds):
        for load, offsets in loads(args).items():
            for st in stacks if number % 2 == 0 else stacks[::-1]:
                run = settled_load(st, inputs, offsets, args)
                runs.setdefault((st.variant.label, load), []).append(run)
                print(f"round {number + 1} {st.variant.label} {load}: {run.rate:,.0f} tokens/s", flush=True)
    return [
        summarise(st.variant.label, load, runs[(st.variant.label, load)])
        for load in loads(args)
        for st in stacks
    ]


def run_variants(variants: list[Variant], root: Path, args: argparse.Namespace) -> list[Summary]:
    """Start every variant's stack, measure, and stop them all."""
    stacks: list[VariantStack] = []
    try:
        for v in variants:
            stacks.append(start_stack(root, v))
        return measure(stacks, args)
    finally:
        for st in stacks:
            st.stop()


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages, as `uptime` shows them."""
    return ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every variant, print the section, and write it into --out when given."""
    args = parse(argv)
    shown = " ".join(["python -m devtools.bench.models.mixed", *(argv if argv is not None else sys.argv[1:])])
    began, load_before, other = time.monotonic(), loadavg(), OtherLoad()
    with tempfile.TemporaryDirectory(prefix="llmb-bench-mixed-") as tmp:
        variants = [parse_variant(spec, Path(tmp)) for spec in args.variants]
        try:
            revisions = ", ".join(f"{v.label} = {revision(v)}" for v in variants)
            summaries = run_variants(variants, Path(tmp), args)
        finally:
            for v in variants:
                if v.tree != REPO:
                    remove = ["git", "-C", str(REPO), "worktree", "remove", "--force", str(v.tree)]
                    subprocess.run(remove, check=False)
    facts = [
        f"Command: `{shown}`",
        f"Machine: {machine()}",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"Revisions: {revisions}",
        f"Load average (1, 5, 15 min) before the run: {load_before}; after: {loadavg()}",
        f"Other processes on the machine during the run: {other.cores():.2f} cores busy on average",
        f"Run time: {time.monotonic() - began:.0f} s",
    ]
    sizes = {k: getattr(args, k) for k in ("jobs", "seed", "rate", "max_other", "reruns")}
    section = render(facts, summaries, **sizes)
    print(section)
    if args.out:
        write_section(args.out, section, HEADING)
        print(f"wrote {args.out}")
    return 0


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line's options (sys.argv's when `argv` is None)."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.models.mixed", description=__doc__)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["before@HEAD~1", "now"],
        help="label[@rev][:LLMB_X=1,...], the first the baseline (default: before@HEAD~1 now)",
    )
    parser.add_argument("--jobs", type=int, default=96, help="chat jobs in each load")
    parser.add_argument("--rate", type=float, default=20.0, help="the steady load's jobs a second")
    parser.add_argument("--seed", type=int, default=17, help="draws max_tokens (8..256) and the gaps")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both loads per variant")
    parser.add_argument(
        "--max-other", type=float, default=0.3, help="cores other processes may keep busy during a load"
    )
    parser.add_argument("--reruns", type=int, default=2, help="reruns of a load disturbed past --max-other")
    parser.add_argument("--out", type=Path, help="markdown file whose mixed-load section is replaced")
    return parser.parse_args(argv)
