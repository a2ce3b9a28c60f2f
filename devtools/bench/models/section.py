"""`make bench-models`'s section of docs/BENCHMARKS.md: how, where and when it ran, tables, then notes."""

from __future__ import annotations

import importlib.metadata

from devtools.bench.document import commit, machine
from devtools.bench.gpu.pins import procedure
from devtools.bench.models.chat import ChatResults
from devtools.bench.models.direct import ImageResults
from devtools.bench.models.plan import TEMPERATURE, TOP_P, Plan
from devtools.bench.models.report import Results, direct_table, ratios_table, stages_table, system_table

HEADING = "## Models (make bench-models)"
GPU_HEADING = "## Models on a GPU (make bench-models)"
GPU_COMMAND = "python -m devtools.bench.models --shapes real --out docs/BENCHMARKS.md"
PLOT = "bench-models.png"
GPU_PLOT = "bench-models-gpu.png"


def heading(device: str) -> str:
    """The section a run on `device` rewrites: a CUDA run keeps its own beside the CPU one."""
    return GPU_HEADING if device == "cuda" else HEADING


def plot_name(device: str) -> str:
    """The plot's file name beside docs/BENCHMARKS.md, one per section."""
    return GPU_PLOT if device == "cuda" else PLOT


def device_line(device: str) -> str:
    """The accelerator by name, or this host's CPU."""
    if device == "cuda":
        import torch

        return f"CUDA, {torch.cuda.get_device_name(0)} (host: {machine()})"
    return f"{device.upper()}, {machine()}"


def facts(res: Results) -> list[str]:
    """The lines saying how, where, when and on what the run was made."""
    p = res.plan
    versions = ", ".join(
        f"{n} {importlib.metadata.version(n)}" for n in ("torch", "diffusers", "transformers")
    )
    chat = res.chat.direct if res.chat and isinstance(res.chat.direct, ChatResults) else None
    prompt = f" ({chat.prompt_tokens} prompt tokens)" if chat else ""
    return [
        f"Command: `{res.command}`",
        *([f"Run: {res.note}"] if res.note else []),
        f"Device: {device_line(res.device)}",
        f"Libraries: {versions}",
        f"Date: {max(k.when for _, k in res.kinds() if k)}",
        f"Commit: {commit()}",
        f"Shapes: {res.shapes.name}, {res.shapes.summary}",
        f"Image jobs: {p.side}×{p.side}, {p.steps} step(s), guidance {p.guidance:g}, one image a job, "
        "seed = job index",
        f"Chat jobs: one user message{prompt}, max_tokens {p.max_tokens}, temperature {TEMPERATURE}, "
        f"top_p {TOP_P}, a fixed seed each, no stop strings",
        f"System runs: {p.jobs} jobs posted at once (16 connections) to the API (gunicorn, 1 worker), "
        f"Redis, one Celery worker process (`LLMB_CONCURRENCY=1`), `LLMB_BATCH_WAIT_MS={p.batch_wait_ms}`, "
        "local storage",
        "OpenAI-compatible run: the batched chat load again on the same worker, round for round with it, "
        "each job a streamed POST /v1/chat/completions (one connection per job, "
        "`stream_options.include_usage`), timed to the last `data: [DONE]` read",
    ]


def notes(res: Results) -> str:
    """How to read the tables, and what this run could not measure."""
    lines = [_method(res.plan), *_chat_notes(res)]
    image = res.image.direct if res.image and isinstance(res.image.direct, ImageResults) else None
    if image:
        lines.append(
            f"The worker encodes every image as PNG on the CPU, one after another: {image.png_ms:.1f} ms an "
            f"image here (random-weight images are noise, which compresses worse than a real picture)."
        )
    if res.image and res.chat and res.image.when[:13] != res.chat.when[:13]:
        lines.append(f"Measured in separate runs: image at {res.image.when}, chat at {res.chat.when}.")
    if res.device != "cuda":
        lines.append(
            "**The GPU targets (system ÷ direct ≥ 0.9; batched ÷ unbatched ≥ 3× images, ≥ 10× chat at 32 "
            "jobs) are for a CUDA machine; this run had none.** The last GPU run has its own section, "
            f'"{GPU_HEADING.removeprefix("## ")}". On a CUDA machine run `{GPU_COMMAND}` '
            "(`make bench-models BENCH_MODELS_ARGS='--shapes real'`) to rewrite that section; it builds "
            "the real-shaped random-weight models once (no download) and needs no other change; "
            "`--only image` and `--only chat` split it in two runs whose results the section merges."
        )
    return "\n\n".join(lines)


def _method(p: Plan) -> str:
    """How the rates were taken."""
    return (
        f"A direct rate is that of the fastest timed call (at least {p.runs} calls and {p.min_s:g} s after "
        f"one untimed warm-up call; the best of {p.passes} pass(es) over the batch sizes): other load on a "
        "shared machine only ever slows a call. The first call's seconds are shown since compilation lands "
        "there. A system rate counts from the first POST to the last job's `finished_at` (the fastest of "
        f"{p.rounds} round(s), after one untimed batch on the freshly started worker); "
        '"batches formed" comes from the worker log. Chat tokens: the direct `generate` sweep decodes '
        "exactly max_tokens per row (end-of-text suppressed with `min_new_tokens`); the worker pipeline "
        "and the system count the tokens each reply really generated (`usage.completion_tokens`)."
    )


def _chat_notes(res: Results) -> list[str]:
    """Where a decode step's time goes, and how many replies ran to max_tokens."""
    chat = res.chat.direct if res.chat and isinstance(res.chat.direct, ChatResults) else None
    if chat is None or res.chat is None:
        return []
    ms = 1000 / res.plan.max_tokens
    per_token = [
        f"{chat.best.call_s * ms:.1f} ms (best direct, batch {chat.best.batch})",
        f"{chat.sampler.call_s * ms:.1f} ms (with the sampler)",
        f"{chat.pipeline.call_s * ms:.1f} ms (the pipeline class in-process)",
    ]
    if res.chat.batched.step_ms is not None:
        per_token.append(f"{res.chat.batched.step_ms:.1f} ms (system, batching on; from the token events)")
    batched, unbatched = res.chat.batched, res.chat.unbatched
    return [
        "A decode step of the whole batch takes " + ", ".join(per_token) + ".",
        "Random weights may end a reply early, so the chat seeds are those whose reply ran to "
        f"max_tokens in the in-process pipeline run ({chat.full} of {chat.replies} candidates did); "
        f"in the system run {batched.full} of {batched.succeeded} (batched) and "
        f"{unbatched.full} of {unbatched.succeeded} (unbatched) ran full length.",
    ]


def render(res: Results, *, plot: bool) -> str:
    """The whole section, heading first."""
    parts = [
        heading(res.device),
        *([procedure()] if res.device == "cuda" else []),
        "  \n".join(facts(res)),
        "### Direct: one process, no API, Redis or Celery",
        direct_table(res),
        "### From the best direct call to the system",
        stages_table(res),
        "### System runs",
        system_table(res),
        "### Ratios",
        ratios_table(res),
    ]
    if plot:
        parts.append(f"![throughput by batch size]({plot_name(res.device)})")
    parts.append(notes(res))
    return "\n\n".join(parts) + "\n"
