"""`make bench-models`: image and chat throughput called directly, and through the API, Redis and a worker;
the last run's results are kept per shape set and device, so a later `--only` run shows both job types."""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from devtools import REPO
from devtools.bench.document import write_section
from devtools.bench.models.chat import ChatResults, bench_chat
from devtools.bench.models.direct import ImageResults, bench_image, free_memory
from devtools.bench.models.plan import Plan, plan_for
from devtools.bench.models.plot import plot
from devtools.bench.models.report import KindResults, Results
from devtools.bench.models.section import heading, plot_name, render
from devtools.bench.models.shapes import Shapes, ensure_shapes
from devtools.bench.models.system import SystemBench
from worker.device import pick_device

SAVED = REPO / "var" / "bench-models"


def _path(shapes: Shapes, device: str) -> Path:
    return SAVED / f"{shapes.name}-{device}.pickle"


def merge_saved(
    measured: dict[str, KindResults], *, plan: Plan, shapes: Shapes, device: str, merge: bool
) -> dict[str, KindResults]:
    """Save `measured`; when `merge`, first add the job types it lacks from a saved run of the same plan."""
    path = _path(shapes, device)
    if merge and path.exists():
        try:
            saved_plan, saved = pickle.loads(path.read_bytes())
        except (pickle.UnpicklingError, AttributeError, EOFError, ImportError, TypeError, ValueError) as exc:
            print(f"ignoring {path}: {exc}")
        else:
            if saved_plan == plan:
                measured = {**saved, **measured}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((plan, measured)))
    return measured


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the section, and write it (and the plot) beside --out when given."""
    args = _parse(argv)
    device = pick_device(args.device)
    overrides = {n: getattr(args, n) for n in ("jobs", "caches", "batches", "batch_wait_ms", "rounds")}
    plan = plan_for(args.shapes, quick=args.quick, overrides=overrides)
    shapes = ensure_shapes(args.shapes, device=device)
    kinds = [args.only] if args.only else ["image", "chat"]
    direct = {kind: _direct(kind, shapes, plan=plan, device=device) for kind in kinds}
    with tempfile.TemporaryDirectory(prefix="llmb-bench-models-") as tmp:
        system = SystemBench(Path(tmp), shapes, device=device, batch_wait_ms=plan.batch_wait_ms)
        try:
            measured = {kind: _system(system, kind, direct[kind], plan) for kind in kinds}
        finally:
            system.close()
    command = " ".join(
        ["python -m devtools.bench.models", *_shown(argv if argv is not None else sys.argv[1:])]
    )
    measured = merge_saved(measured, plan=plan, shapes=shapes, device=device, merge=bool(args.only))
    res = Results(command, device, shapes, plan, measured.get("image"), measured.get("chat"), args.note)
    plotted = plot(res, args.out.parent / plot_name(device)) if args.out else False
    section = render(res, plot=plotted)
    print(section)
    if args.out:
        write_section(args.out, section, heading(device))
        print(f"wrote {args.out}" + (f" and {args.out.parent / plot_name(device)}" if plotted else ""))
    return 0


def _direct(kind: str, shapes: Shapes, *, plan: Plan, device: str) -> ImageResults | ChatResults:
    """The in-process measurements of one job type, its memory freed afterwards."""
    print(f"direct {kind} ({shapes.name} shapes, {device})", flush=True)
    result = (bench_image if kind == "image" else bench_chat)(shapes, plan=plan, device=device)
    free_memory()
    return result


def _system(system: SystemBench, kind: str, direct: ImageResults | ChatResults, plan: Plan) -> KindResults:
    """The same load through the system with batching at the best direct batch size, then without."""
    print(f"system {kind}", flush=True)
    if isinstance(direct, ChatResults):
        # Screened seeds first; past them, seeds the screening never tried (their replies may end early).
        seeds = direct.seeds + list(range(1_000_000, 1_000_000 + plan.jobs - len(direct.seeds)))
        inputs = [plan.chat_input(seed) for seed in seeds]
        cache = direct.best.config.removeprefix("chat ")
    else:
        inputs, cache = [plan.image_input(seed) for seed in range(plan.jobs)], "dynamic"
    # Chat's batched load also goes through the OpenAI-compatible route, streamed, round by round with it.
    vias = ("jobs", "openai") if kind == "chat" else ("jobs",)
    best = direct.best.batch  # batching cannot help where batch 1 is fastest
    first = system.run(
        kind, inputs, batch_max=1, cache=cache, rounds=plan.rounds, vias=vias[: 1 + (best == 1)]
    )
    if best == 1:
        return KindResults(direct, first["jobs"], first["jobs"], _now(), first.get("openai"))
    second = system.run(kind, inputs, batch_max=best, cache=cache, rounds=plan.rounds, vias=vias)
    return KindResults(direct, second["jobs"], first["jobs"], _now(), second.get("openai"))


def _shown(argv: Sequence[str]) -> list[str]:
    """The command line as the section shows it: `--note` has a line of its own."""
    shown: list[str] = []
    for arg in argv:
        if shown[-1:] == ["--note"]:
            shown.pop()
        elif not arg.startswith("--note="):
            shown.append(arg)
    return shown


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.models", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke test: few batch sizes, jobs and tokens")
    parser.add_argument(
        "--shapes",
        choices=("tiny", "real"),
        default="tiny",
        help="tiny: var/models; real: sd-turbo- and Qwen2.5-0.5B-shaped random weights (for a GPU)",
    )
    parser.add_argument("--out", type=Path, help="markdown file whose models section is replaced")
    parser.add_argument("--only", choices=("image", "chat"), help="measure one job type")
    parser.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    parser.add_argument("--jobs", type=int, help="jobs per system run (default: from the plan)")
    parser.add_argument("--batches", help="direct batch sizes, comma-separated (default: from the plan)")
    parser.add_argument("--batch-wait-ms", type=int, help="LLMB_BATCH_WAIT_MS of the batching worker (20)")
    parser.add_argument("--caches", help="chat KV caches to sweep, comma-separated (default: dynamic,static)")
    parser.add_argument("--rounds", type=int, help="timed rounds per system run, the fastest kept (plan's)")
    parser.add_argument("--note", default="", help="how the run was made, a line of the section (Run: ...)")
    return parser.parse_args(argv)
