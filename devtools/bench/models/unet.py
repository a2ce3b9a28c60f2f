"""The image pipeline's UNet options side by side (issue 17): eager, channels_last, torch.compile, both.

`python -m devtools.bench.models.unet --out docs/BENCHMARKS.md` measures images/s of the worker's image
pipeline (`DiffusersImagePipeline.run`, its PNGs awaited) under LLMB_IMAGE_CHANNELS_LAST and
LLMB_IMAGE_COMPILE, and rewrites the section "Image pipeline options (CPU)" ("(GPU)" on CUDA). Each
configuration lives in a process of its own (torch.compile's caches are per process), is loaded and
warmed up at the measured shape (the compile lands there, timed apart), then the configurations take
turns, round after round, the order reversed every other round; the table shows medians.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, get_args

from devtools.bench.document import write_section
from devtools.bench.models.direct import check, run_direct, synchronize
from devtools.bench.models.section import device_line
from devtools.bench.models.shapes import ensure_shapes
from shared.image_options import CompileMode
from shared.inputs import ImageInput
from shared.settings import Settings, load_settings
from worker.device import pick_device
from worker.pipelines.image import DiffusersImagePipeline


def configs(mode: str) -> dict[str, dict[str, object]]:
    """The four configurations by name: their settings (the compiled ones in torch.compile's `mode`)."""
    return {
        "eager": {},
        "channels_last": {"image_channels_last": True},
        f"compile ({mode})": {"image_compile": mode},
        "channels_last + compile": {"image_channels_last": True, "image_compile": mode},
    }


GPU_NOTE = (
    "On a GPU, where these options are meant to pay: `make bench-gpu-pack` here, then on the GPU machine "
    "`KINDS= UNET=1 bash devtools/bench/gpu/run.sh` (this comparison alone, on the real-shaped sd-turbo "
    'model), which writes the section "Image pipeline options (GPU)"; `UNET_ARGS="--shapes real --mode '
    'reduce-overhead"` tries CUDA graphs.'
)
HEADINGS = {False: "## Image pipeline options (CPU)", True: "## Image pipeline options (GPU)"}

_loaded: dict[str, Any] = {}  # in each configuration's process: its pipeline and jobs


class AtShape(DiffusersImagePipeline):
    """The worker's image pipeline, warmed up with the benchmark's own batch (so compiled for its shape)."""

    def __init__(self, settings: Settings, jobs: list[ImageInput]) -> None:
        super().__init__(settings)
        self.jobs = jobs

    def warm_up_call(self, pipe: Any) -> None:
        """One batch of the measured shape (untimed)."""
        check(run_direct(self, self.jobs))


def _load(model: str, device: str, options: dict[str, object], jobs: list[dict[str, Any]]) -> None:
    """In the configuration's process: load and warm up its pipeline, kept for `_measure`."""
    settings = load_settings(image_model=model, device=device, **options)
    pipeline = AtShape(settings, [ImageInput.model_validate(j) for j in jobs])
    pipeline.load()
    _loaded.update(pipeline=pipeline, device=device)


def _measure(calls: int) -> float:
    """Images/s over `calls` batches through the pipeline, each one's PNGs encoded before the next."""
    pipeline, device = _loaded["pipeline"], _loaded["device"]
    synchronize(device)
    start = time.perf_counter()
    images = 0
    for _ in range(calls):
        for output in check(run_direct(pipeline, pipeline.jobs)):
            images += sum(len(artifact.body()) > 0 for artifact in output.artifacts)
    synchronize(device)
    return images / (time.perf_counter() - start)


def _unet() -> str:
    """How the loaded pipeline's UNet runs: "compiled", or "eager" (also where a compile fell back)."""
    compiled = type(_loaded["pipeline"].pipe.unet).__name__ == "OptimizedModule"
    return "compiled" if compiled else "eager"


def _ready(pool: ProcessPoolExecutor) -> tuple[float, str]:
    """Seconds until the pool's process has loaded its configuration, and how its UNet runs."""
    start = time.perf_counter()
    unet = pool.submit(_unet).result()
    return time.perf_counter() - start, unet


Loads = dict[str, tuple[float, str]]


def run(args: argparse.Namespace) -> tuple[Loads, dict[str, list[float]]]:
    """Load every configuration (seconds each), then `args.rounds` alternating rounds (images/s each)."""
    device = pick_device(args.device)
    model = str(ensure_shapes(args.shapes, device=device).image)
    jobs = [
        {
            "prompt": "a red fox in the snow",
            "width": args.side,
            "height": args.side,
            "steps": args.steps,
            "seed": n,
        }
        for n in range(args.batch)
    ]
    spawn = get_context("spawn")
    pools = {
        name: ProcessPoolExecutor(1, spawn, initializer=_load, initargs=(model, device, options, jobs))
        for name, options in configs(args.mode).items()
    }
    try:
        load_s: Loads = {}
        for name, pool in pools.items():  # one at a time: a compile takes every core
            load_s[name] = _ready(pool)
            print(
                f"{name}: loaded and warmed up in {load_s[name][0]:.1f} s, UNet {load_s[name][1]}", flush=True
            )
        rates: dict[str, list[float]] = {name: [] for name in pools}
        for round_ in range(args.rounds):
            order = list(pools) if round_ % 2 == 0 else list(reversed(pools))
            for name in order:
                rates[name].append(pools[name].submit(_measure, args.calls).result())
                print(f"round {round_ + 1} {name}: {rates[name][-1]:.2f} images/s", flush=True)
    finally:
        for pool in pools.values():
            pool.shutdown(cancel_futures=True)
    return load_s, rates


def render(args: argparse.Namespace, command: str, load_s: Loads, rates: dict[str, list[float]]) -> str:
    """The section: how, where and when it ran, then one row per configuration."""
    device = pick_device(args.device)
    versions = ", ".join(
        f"{n} {importlib.metadata.version(n)}" for n in ("torch", "diffusers", "transformers")
    )
    eager = statistics.median(rates["eager"])
    rows = [
        f"| {name} | {statistics.median(r):.2f} | {statistics.median(r) / eager:.2f}× | "
        f"{', '.join(f'{x:.2f}' for x in r)} | {load_s[name][0]:.0f} | {load_s[name][1]} |"
        for name, r in rates.items()
    ]
    return "\n".join(
        [
            HEADINGS[device == "cuda"],
            "",
            f"Command: `{command}`  ",
            f"Device: {device_line(device)}  ",
            f"Libraries: {versions}  ",
            f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}  ",
            f"Work: the {args.shapes} image model, batches of {args.batch} images {args.side}×{args.side}, "
            f"{args.steps} step(s), guidance 7.5 (the API's default), through `DiffusersImagePipeline.run`, "
            f"its PNGs awaited; {args.calls} batches a round, {args.rounds} rounds taking turns.",
            "",
            "| configuration | images/s (median) | ÷ eager | each round | load + warm-up s | UNet ran |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"`channels_last` is `LLMB_IMAGE_CHANNELS_LAST=true`, `compile ({args.mode})` is "
            f"`LLMB_IMAGE_COMPILE={args.mode}`; the load column holds the compile, paid in the worker's "
            "warm-up before it consumes (plus one more per new image size or batch size a job brings). It "
            "counts inductor's on-disk cache as this machine had it: a first start on a clean machine "
            "compiles from scratch, longer. A compiled configuration whose UNet ran `eager` fell back: its "
            "compile failed (the log above the table says why).",
            "",
            *([] if device == "cuda" else [GPU_NOTE, ""]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the section, and write it into --out when given."""
    args = _parse(argv)
    load_s, rates = run(args)
    shown = argv if argv is not None else sys.argv[1:]
    section = render(args, " ".join(["python -m devtools.bench.models.unet", *shown]), load_s, rates)
    print(section)
    if args.out:
        write_section(args.out, section, HEADINGS[pick_device(args.device) == "cuda"])
        print(f"wrote {args.out}")
    return 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.models.unet", description=__doc__)
    parser.add_argument(
        "--shapes", choices=("tiny", "real"), default="tiny", help="real: sd-turbo-shaped (GPU)"
    )
    parser.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    parser.add_argument("--batch", type=int, default=8, help="images a batch (8)")
    parser.add_argument("--side", type=int, default=256, help="width and height (256)")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps (2)")
    parser.add_argument("--calls", type=int, default=3, help="batches a round (3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, configurations taking turns (3)")
    modes = [m for m in get_args(CompileMode) if m != "off"]
    parser.add_argument(
        "--mode", choices=modes, default="default", help="the compiled ones' torch.compile mode"
    )
    parser.add_argument("--out", type=Path, help="markdown file whose section is replaced")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
