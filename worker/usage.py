"""What a finished job used: its tokens or images, and its share of its batch's device time.

A batch's device time is the wall time of its one pipeline call. It is divided among the batch's
jobs by their share of the work: a chat job's prompt + completion tokens, an embed job's tokens, an
image job's pixels × steps (width × height × steps × images). A job that failed in the pipeline
counts its input's work where that is known before running (images) and none otherwise; a batch
whose jobs count no work at all splits its time equally.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.job_record import JobRecord
from shared.vocabulary import JobType
from worker.pipelines.base import Output


def measures(record: JobRecord, output: Output | Exception) -> dict[str, int]:
    """The job's counted measures (tokens, images, pixel_steps), from its input and its output."""
    if record.type is JobType.IMAGE:
        given: dict[str, Any] = record.input
        images = int(given.get("num_images", 1))
        size = int(given.get("width", 512)) * int(given.get("height", 512))
        return {"images": images, "pixel_steps": images * size * int(given.get("steps", 1))}
    if isinstance(output, Exception):
        return {}
    usage = output.summary.get("usage") or {}
    if record.type is JobType.CHAT:
        return {
            "prompt_tokens": int(usage.get("prompt_tokens", 0)),
            "completion_tokens": int(usage.get("completion_tokens", 0)),
        }
    return {"prompt_tokens": int(usage.get("prompt_tokens", 0))}


def work(counted: dict[str, int]) -> int:
    """A job's share of its batch's work, in the unit of its type (tokens, or pixels × steps)."""
    if "pixel_steps" in counted:
        return counted["pixel_steps"]
    return counted.get("prompt_tokens", 0) + counted.get("completion_tokens", 0)


def divide(device_s: float, works: Sequence[int]) -> list[float]:
    """Split `device_s` seconds by each job's share of the work (equally when none counts any)."""
    total = sum(works)
    if total <= 0:
        return [device_s / len(works)] * len(works) if works else []
    return [device_s * w / total for w in works]


def batch_usage(
    device_s: float, jobs: Sequence[tuple[JobRecord, Output | Exception]]
) -> list[dict[str, float]]:
    """Each job's usage (its measures and `device_s`, its share of the batch's seconds), in order."""
    counted = [measures(record, output) for record, output in jobs]
    shares = divide(device_s, [work(c) for c in counted])
    return [{**c, "device_s": round(s, 6)} for c, s in zip(counted, shares, strict=True)]
