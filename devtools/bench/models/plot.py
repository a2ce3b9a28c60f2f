"""The benchmark's figure: direct throughput by batch size, with the system runs as markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.bench.models.chat import ChatResults
from devtools.bench.models.direct import Point
from devtools.bench.models.report import KindResults, Results


def plot(res: Results, path: Path) -> bool:
    """Draw one panel per job type into `path`; False when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(unit, kind) for unit, kind in res.kinds() if kind]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), squeeze=False)
    for ax, (unit, kind) in zip(axes[0], panels, strict=True):
        _panel(ax, unit, kind)
    fig.suptitle(f"make bench-models: {res.shapes.name} shapes on {res.device}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _panel(ax: Any, unit: str, kind: KindResults) -> None:
    """One job type: a line per direct configuration, markers for the pipeline and the system runs."""
    direct = kind.direct
    lines: dict[str, list[Point]] = (
        {f"direct, {c} cache": pts for c, pts in direct.raw.items()}
        if isinstance(direct, ChatResults)
        else {"direct": direct.raw}
    )
    for label, points in lines.items():
        ran = [p for p in points if p.rate is not None]
        ax.plot([p.batch for p in ran], [p.rate for p in ran], marker="o", label=label)
    pipe = direct.pipeline
    ax.scatter([pipe.batch], [pipe.rate], marker="D", s=60, label="worker pipeline, in-process")
    runs = [(kind.batched, "*", "system, batching on"), (kind.unbatched, "X", "system, batching off")]
    if kind.openai is not None:
        runs.append((kind.openai, "P", "streamed via /v1/chat/completions"))
    for run, marker, name in runs:
        ax.scatter([run.batch_max], [run.rate], marker=marker, s=140, label=f"{name} ({run.jobs} jobs)")
    ax.set_xscale("log", base=2)
    sizes = sorted({p.batch for points in lines.values() for p in points} | {1})
    ax.set_xticks(sizes, labels=[str(size) for size in sizes])
    ax.set_xlabel("batch size (system: LLMB_BATCH_MAX)")
    ax.set_ylabel(unit)
    ax.set_title("chat" if isinstance(direct, ChatResults) else "image")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
