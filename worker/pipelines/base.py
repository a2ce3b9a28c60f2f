"""What a pipeline is to the worker: set up once, then run batches of compatible jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.inputs import JobInput
from worker.context import Batch


@dataclass(frozen=True)
class Artifact:
    """One result object a job produced (an image, a JSON document)."""

    name: str
    data: bytes
    content_type: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Output:
    """Everything one job produced: objects to store and a small inline summary."""

    artifacts: list[Artifact] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


class JobStopped(Exception):  # noqa: N818 - a control signal, not a failure
    """Raised inside a pipeline when none of its batch's jobs is wanted any more."""


class Pipeline(Protocol):
    """A model pipeline: `load` once per process, then `run` many batches."""

    def load(self) -> None:
        """Load weights and warm up; the worker reports ready only after this."""

    def batch_key(self, job_input: JobInput) -> str:
        """Jobs with equal keys can run in one model call."""

    def run(self, batch: Batch) -> list[Output | Exception]:
        """Run a batch; one Output, or the exception that failed it, per job in order.

        Per step, queue each wanted job's progress or tokens on its context, call
        `batch.sync()`, and stop early (JobStopped) once `batch.any_wanted` is False.
        """
