"""The report's figure: queue and replicas under each worker signal, and the API's pods, per scenario."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on CI or in a container

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from devtools.scaling.api import ApiTrace
from devtools.scaling.engine import Signal
from devtools.scaling.results import SIGNAL_NAMES, SIGNALS, Results

COLORS = {"waiting": "tab:orange", "running": "tab:blue", "replicas": "black", "pods": "tab:gray"}


def label(results: Results) -> str:
    """A scenario's name with its workload in brief."""
    spec = results.scenario.burst
    workload = f"{spec.jobs:,} jobs in {spec.over_s / 60:g} min, ~{spec.service_s:g} s each"
    return f"{results.scenario.name} ({workload})"


def _minutes(n: int) -> np.ndarray:
    """The x axis: one point per simulated second, in minutes."""
    return np.arange(n) / 60


def _worker_panel(ax: Axes, results: Results, signal: Signal) -> list[Artist]:
    """Waiting and running jobs (left axis) with desired replicas and existing pods (right axis)."""
    trace = results.runs[signal].trace
    x = _minutes(len(trace.replicas))
    ax.fill_between(x, trace.waiting, color=COLORS["waiting"], alpha=0.35, step="post", label="jobs waiting")
    ax.plot(x, trace.running, color=COLORS["running"], lw=2.2, drawstyle="steps-post", label="jobs running")
    right = ax.twinx()
    right.plot(x, trace.replicas, color=COLORS["replicas"], lw=1.1, drawstyle="steps-post", label="replicas")
    right.plot(x, trace.pods, color=COLORS["pods"], ls="--", drawstyle="steps-post",
               label="pods (incl. starting, stopping)")  # fmt: skip
    right.set_ylabel("worker replicas / pods")
    jobs_top, pods_top = max(*trace.waiting, *trace.running), max(*trace.pods, *trace.replicas)
    if jobs_top > 20:
        # Symlog: a queue of thousands and a handful of running jobs stay readable on one axis.
        ax.set_yscale("symlog", linthresh=10)
        ax.set_ylim(0, jobs_top * 1.5)
        ax.set_ylabel("jobs (linear to 10, log above)")
        right.set_ylim(0, pods_top + 1)
    else:
        # Small counts: one scale for jobs and pods, so running jobs compare directly with pods.
        top = max(jobs_top, pods_top) + 1
        for axis in (ax, right):
            axis.set_ylim(0, top)
            axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("jobs")
    ax.set_title(f"{label(results)}: signal = {SIGNAL_NAMES[signal]}", fontsize=10)
    ax.grid(alpha=0.3)
    return ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]


def _api_panel(ax: Axes, trace: ApiTrace, title: str) -> None:
    """Requests per second (left axis) with the API's replicas and 15-s CPU utilization (right axis)."""
    x = _minutes(len(trace.replicas))
    ax.plot(x, trace.rps, color="tab:green", lw=0.8, label="API requests/s")
    ax.set_ylabel("requests/s")
    right = ax.twinx()
    right.plot(x, trace.replicas, color="black", drawstyle="steps-post", label="API replicas")
    right.plot(
        x, np.array(trace.utilization) / 100, color="tab:red", lw=0.8, label="CPU ÷ request (1 = 100 %)"
    )
    right.set_ylabel("API replicas; CPU ÷ request")
    right.set_ylim(0, max(*trace.replicas, max(trace.utilization) / 100) * 1.15 + 0.5)
    ax.set_title(title, fontsize=10)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.9)
    ax.grid(alpha=0.3)
    ax.set_xlabel("minutes since the first job arrived")


def plot(columns: list[Results], apis: list[tuple[str, ApiTrace]], out: Path, *, title: str) -> None:
    """A column per scenario (a row per worker signal), then a row of API panels; PNG at 150 dpi."""
    rows, cols = len(SIGNALS) + 1, max(len(columns), len(apis))
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, 3.3 * rows), squeeze=False)
    handles: list[Artist] = []
    for col, results in enumerate(columns):
        for row, signal in enumerate(SIGNALS):
            handles = _worker_panel(axes[row][col], results, signal)
            axes[row][col].set_xlim(0, len(results.runs[signal].trace.replicas) / 60)
    for col, (name, trace) in enumerate(apis):
        _api_panel(axes[rows - 1][col], trace, name)
        axes[rows - 1][col].set_xlim(0, len(trace.replicas) / 60)
    fig.suptitle(title, fontsize=12, y=0.995)
    fig.legend(
        handles=handles, loc="upper center", ncol=len(handles), bbox_to_anchor=(0.5, 0.975), fontsize=9
    )
    # Fixed margins: tight_layout measures every tick label of twelve axes and doubles the drawing time.
    fig.subplots_adjust(left=0.06, right=0.94, bottom=0.06, top=0.9, wspace=0.3, hspace=0.35)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    plt.close(fig)
