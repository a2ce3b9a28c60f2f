"""`make bench-models`'s tables: direct by batch size, the stages down to the system, runs and ratios."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from devtools.bench.models.chat import ChatResults
from devtools.bench.models.direct import ImageResults, Point
from devtools.bench.models.plan import Plan, rate
from devtools.bench.models.shapes import Shapes
from devtools.bench.models.system import SystemRun


@dataclass
class KindResults:
    """One job type's direct results and its two system runs."""

    direct: ImageResults | ChatResults
    batched: SystemRun
    unbatched: SystemRun
    when: str  # when its system runs ended (UTC)
    openai: SystemRun | None = None  # chat: the batched run's load, streamed via /v1/chat/completions


@dataclass
class Results:
    """Everything one run measured, with what it needs to be read."""

    command: str
    device: str
    shapes: Shapes
    plan: Plan
    image: KindResults | None
    chat: KindResults | None
    note: str = ""  # how the run was made beyond its command line (the GPU machine's script says)

    def kinds(self) -> list[tuple[str, KindResults | None]]:
        """The job types with their unit, measured or not."""
        return [("images/s", self.image), ("tokens/s", self.chat)]


def direct_table(res: Results) -> str:
    """Direct throughput by batch size for every configuration that ran."""
    columns: list[tuple[str, list[Point]]] = []
    if res.image and isinstance(res.image.direct, ImageResults):
        columns.append(("image: images/s", res.image.direct.raw))
    if res.chat and isinstance(res.chat.direct, ChatResults):
        columns += [
            (f"chat {cache} cache: tokens/s", points) for cache, points in res.chat.direct.raw.items()
        ]
    head = "| batch | " + " | ".join(f"{name} (s a call; first call s)" for name, _ in columns) + " |"
    lines = [head, "|" + " --- |" * (len(columns) + 1)]
    for batch in res.plan.batches:
        cells = [_cell(next((p for p in points if p.batch == batch), None)) for _, points in columns]
        if any(cells):
            lines.append(f"| {batch} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(point: Point | None) -> str:
    if point is None:
        return ""
    if point.rate is None:
        return point.note
    return f"{rate(point.rate)} ({point.call_s:.3f}; {point.first_s:.2f})"


def stages_table(res: Results) -> str:
    """From the best direct call to the system, each stage's throughput and its share of the best."""
    lines = [
        "| stage | image batch | images/s | ÷ best | chat batch | tokens/s | ÷ best |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    image, chat = res.image, res.chat
    chat_direct = chat.direct if chat and isinstance(chat.direct, ChatResults) else None
    stages: list[tuple[str, Point | SystemRun | None, Point | SystemRun | None]] = [
        ("best direct: the library call (diffusers pipe, model.generate)", _best(image), _best(chat)),
        (
            "  the same generate with the worker's SeededSampler",
            None,
            chat_direct.sampler if chat_direct else None,
        ),
        (
            "the worker's pipeline class in this process (no Redis)",
            image.direct.pipeline if image else None,
            chat.direct.pipeline if chat else None,
        ),
        ("system, batching on", image.batched if image else None, chat.batched if chat else None),
        ("system, batching off", image.unbatched if image else None, chat.unbatched if chat else None),
        ("system, as batched, streamed via /v1/chat/completions", None, chat.openai if chat else None),
    ]
    for name, on_image, on_chat in stages:
        lines.append(f"| {name} | {_stage(on_image, _best(image))} | {_stage(on_chat, _best(chat))} |")
    return "\n".join(lines)


def _best(kind: KindResults | None) -> Point | None:
    return kind.direct.best if kind else None


def _stage(value: Point | SystemRun | None, top: Point | None) -> str:
    if value is None or top is None or not top.rate:
        return " | | "
    if isinstance(value, SystemRun):
        return f"≤ {value.batch_max} | {rate(value.rate)} | {value.rate / top.rate:.2f}"
    if value.rate is None:
        return f"{value.batch} | {value.note} | "
    return f"{value.batch} | {rate(value.rate)} | {value.rate / top.rate:.2f}"


def system_table(res: Results) -> str:
    """Every system run: settings, jobs finished, throughput and the batches the worker formed."""
    lines = [
        "| run | LLMB_BATCH_MAX | LLMB_CHAT_CACHE | jobs | succeeded | full-length replies | posting s "
        "| wall s | throughput | jobs/s | ms a token in a reply | batches formed (size×count, in order) |",
        "|" + " --- |" * 12,
    ]
    for unit, kind in res.kinds():
        runs = _runs(kind)
        lines += [_system_row(run, unit) for run in runs]
    return "\n".join(lines)


def _runs(kind: KindResults | None) -> list[SystemRun]:
    """The distinct system runs of a job type (one where the best batch size was 1)."""
    if kind is None:
        return []
    runs = [kind.unbatched] if kind.batched is kind.unbatched else [kind.batched, kind.unbatched]
    return runs + ([kind.openai] if kind.openai else [])


def _system_row(run: SystemRun, unit: str) -> str:
    chat = run.kind == "chat"
    cells = [
        f"{run.kind}, batching {'on' if run.batch_max > 1 else 'off'}"
        + (", streamed via /v1/chat/completions" if run.via == "openai" else ""),
        str(run.batch_max),
        run.cache if chat else "",
        str(run.jobs),
        str(run.succeeded),
        f"{run.full} of {run.succeeded}" if chat else "",
        f"{run.posting_s:.2f}",
        f"{run.wall_s:.2f}",
        f"{rate(run.rate)} {unit}",
        f"{run.succeeded / run.wall_s:,.2f}",
        f"{run.step_ms:.1f}" if run.step_ms is not None else "",
        _batches(run.batches),
    ]
    return "| " + " | ".join(cells) + " |"


def _batches(sizes: list[int]) -> str:
    groups = [(size, len(list(run))) for size, run in itertools.groupby(sizes)]
    return ", ".join(f"{size}×{count}" if count > 1 else str(size) for size, count in groups)


def ratios(kind: KindResults) -> dict[str, float]:
    """System batched against the best direct call, the pipeline in-process and unbatched; OpenAI's to it."""
    top, pipeline = kind.direct.best.rate or 1.0, kind.direct.pipeline.rate or 1.0
    found = {
        "direct": kind.batched.rate / top,
        "pipeline": kind.batched.rate / pipeline,
        "unbatched": kind.batched.rate / kind.unbatched.rate,
    }
    if kind.openai is not None:
        found["openai"] = kind.openai.rate / kind.batched.rate
    return found


def ratios_table(res: Results) -> str:
    """The ratios the targets are set on, per job type."""
    found = {
        name: ratios(kind) if kind else None for name, kind in (("image", res.image), ("chat", res.chat))
    }

    def cell(name: str, which: str) -> str:
        values = found[name]
        return f"{values[which]:.2f}" if values and which in values else ""

    rows = [
        ("system batched ÷ best direct", "direct", "≥ 0.9"),
        ("system batched ÷ the pipeline class in-process", "pipeline", "(shows the system's own cost)"),
        (
            f"system batched ÷ unbatched ({res.plan.jobs} jobs at once)",
            "unbatched",
            "≥ 3 image, ≥ 10 chat (32 jobs)",
        ),
        ("streamed via /v1/chat/completions ÷ system batched (same load)", "openai", "≥ 0.95 (any device)"),
    ]
    lines = ["| ratio | image | chat | target on a GPU |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {label} | {cell('image', key)} | {cell('chat', key)} | {target} |" for label, key, target in rows
    ]
    return "\n".join(lines)
