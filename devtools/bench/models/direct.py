"""Direct throughput: the worker's own pipelines called in this process, with no API, Redis or Celery."""

from __future__ import annotations

import gc
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from devtools.bench.models.plan import Plan, rate
from devtools.bench.models.shapes import Shapes
from shared.inputs import ImageInput, JobInput
from shared.settings import Settings, load_settings
from worker.device import is_out_of_memory
from worker.pipelines.base import Output, Pipeline
from worker.steps import RunningBatch, RunningJob


@dataclass(frozen=True)
class Point:
    """One direct measurement: a configuration at one batch size (rate None when it could not run)."""

    config: str
    batch: int
    rate: float | None
    call_s: float = 0.0
    first_s: float = 0.0
    note: str = ""


class NullLeases:
    """Stands in for Redis under a batch: every report is taken and every job stays wanted."""

    def report_many(self, reports: list[Any]) -> list[str]:
        """Answer "running" for each report."""
        return ["running"] * len(reports)


def settings_for(shapes: Shapes, device: str) -> Settings:
    """Worker settings that load this shape set's pipelines on `device`."""
    return load_settings(image_model=str(shapes.image), chat_model=str(shapes.chat), device=device)


def run_direct(pipeline: Pipeline[Any, Any], inputs: Sequence[JobInput]) -> list[Output | Exception]:
    """Prepare and run jobs as the worker does (its `Steps` included), the reports going nowhere."""
    far = time.monotonic() + 1e9
    jobs = [RunningJob(f"direct-{n}", holder="bench", time_limit_at=far) for n in range(len(inputs))]
    steps = RunningBatch(jobs, NullLeases(), interval_s=0.05)  # type: ignore[arg-type]
    return pipeline.run([pipeline.prepare(i) for i in inputs], steps)


def check(outputs: list[Output | Exception]) -> list[Output]:
    """The outputs, or the first job's exception raised."""
    for output in outputs:
        if isinstance(output, Exception):
            raise output
    return [o for o in outputs if isinstance(o, Output)]


def synchronize(device: str) -> None:
    """Wait for queued device work, so a timer stops after it."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def clock(call: Callable[[], float], device: str) -> tuple[float, float]:
    """Units `call` produced and the seconds it took."""
    synchronize(device)
    start = time.perf_counter()
    units = call()
    synchronize(device)
    return units, time.perf_counter() - start


def timed(config: str, batch: int, call: Callable[[], float], *, plan: Plan, device: str) -> Point:
    """One warm-up call, then at least `plan.runs` calls and `plan.min_s` s; the rate of the fastest call."""
    # The fastest call: on a shared machine other load only ever slows a call down.
    _, first = clock(call, device)
    samples: list[tuple[float, float]] = []
    while len(samples) < plan.runs or (
        sum(s for _, s in samples) < plan.min_s and len(samples) < 10 * plan.runs
    ):
        samples.append(clock(call, device))
    units, seconds = min(samples, key=lambda sample: sample[1])
    return Point(config, batch, units / seconds, seconds, first)


def sweep(
    config: str, call_for: Callable[[int], Callable[[], float]], *, plan: Plan, device: str
) -> list[Point]:
    """The best of `plan.passes` passes over the batch sizes, each ending at a failure or a slow call."""
    found: dict[int, Point] = {}
    sizes = list(plan.batches)
    for _ in range(plan.passes):
        for batch in list(sizes):
            point = _attempt(config, batch, call_for, plan=plan, device=device)
            earlier = found.get(batch)
            if earlier is None or (point.rate or 0) > (earlier.rate or 0):
                found[batch] = replace(point, first_s=earlier.first_s) if earlier else point
            if point.rate is None or point.call_s > plan.max_call_s:
                sizes = sizes[: sizes.index(batch) + (point.rate is not None)]
                break
    return [found[batch] for batch in sorted(found)]


def _attempt(
    config: str, batch: int, call_for: Callable[[int], Callable[[], float]], *, plan: Plan, device: str
) -> Point:
    """`timed` at one batch size, or a point saying why it could not run."""
    try:
        point = timed(config, batch, call_for(batch), plan=plan, device=device)
    except Exception as exc:  # noqa: BLE001 - a configuration that fails is a result, shown in the report
        note = "out of memory" if is_out_of_memory(exc) else f"failed: {type(exc).__name__}: {exc}"
        print(f"  {config} batch {batch}: {note[:300]}", flush=True)
        free_memory()
        return Point(config, batch, None, note=note[:160])
    print(f"  {config} batch {batch}: {rate(point.rate)}/s, {point.call_s:.3f} s a call", flush=True)
    return point


def best(points: list[Point]) -> Point:
    """The fastest point that ran."""
    return max((p for p in points if p.rate is not None), key=lambda p: p.rate or 0.0)


def free_memory() -> None:
    """Drop unreferenced tensors and, on CUDA, cached blocks."""
    import torch

    torch._dynamo.reset()  # compiled graphs hold on to the weights they were traced with
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@dataclass
class ImageResults:
    """The image sweep, the worker pipeline at the best batch size, and the PNG cost per image."""

    raw: list[Point]
    best: Point
    pipeline: Point
    png_ms: float


def bench_image(shapes: Shapes, *, plan: Plan, device: str) -> ImageResults:
    """Sweep the diffusers call over batch sizes, then run the worker's image pipeline at the best one."""
    from worker.pipelines.image import DiffusersImagePipeline

    pipeline = DiffusersImagePipeline(settings_for(shapes, device))
    pipeline.load()
    inputs = [ImageInput.model_validate(plan.image_input(seed)) for seed in range(max(plan.batches))]
    points = sweep(
        "image", lambda n: lambda: float(len(_draw(pipeline.pipe, inputs[:n]))), plan=plan, device=device
    )
    top = best(points)
    jobs = inputs[: top.batch]
    in_pipeline = timed(
        "image pipeline",
        top.batch,
        lambda: float(len(check(run_direct(pipeline, jobs)))),
        plan=plan,
        device=device,
    )
    print(f"  image pipeline batch {top.batch}: {rate(in_pipeline.rate)}/s", flush=True)
    images = _draw(pipeline.pipe, inputs[: min(4, top.batch)])
    start = time.perf_counter()
    for image in images:
        image.save(io.BytesIO(), format="PNG")
    png_ms = (time.perf_counter() - start) / len(images) * 1000
    return ImageResults(points, top, in_pipeline, png_ms)


def _draw(pipe: Any, inputs: list[ImageInput]) -> list[Any]:
    """The diffusers call the worker's image pipeline makes, without its step callback and PNG encoding."""
    import torch

    first = inputs[0]
    return list(
        pipe(
            prompt=[i.prompt for i in inputs],
            negative_prompt=[""] * len(inputs),
            width=first.width,
            height=first.height,
            num_inference_steps=first.steps,
            guidance_scale=first.guidance_scale,
            generator=[torch.Generator(device="cpu").manual_seed(i.seed or 0) for i in inputs],
            output_type="pil",
        ).images
    )
