"""What a pipeline is to the worker: set up once, then run batches of jobs with per-job context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.inputs import JobInput


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


class JobContext(Protocol):
    """A running job as its pipeline sees it: report progress and tokens, learn when to stop."""

    job_id: str

    def progress(self, step: int, total: int) -> bool:
        """Report a step; False when the job must stop (canceled, taken over, past its deadline)."""

    def token(self, text: str, index: int) -> bool:
        """Report a generated piece of text; False when the job must stop."""

    @property
    def wanted(self) -> bool:
        """False once the job must stop."""


@dataclass(frozen=True)
class JobItem:
    """One job of a batch: its validated input and its context."""

    input: JobInput
    ctx: JobContext


class JobStopped(Exception):  # noqa: N818 - a control signal, not a failure
    """Raised inside a pipeline when none of its batch's jobs is wanted any more."""


class Pipeline(Protocol):
    """A model pipeline: `load` once per process, then `run` many batches."""

    def load(self) -> None:
        """Load weights and warm up; the worker reports ready only after this."""

    def batch_key(self, job_input: JobInput) -> str:
        """Jobs with equal keys can run in one model call."""

    def run(self, items: list[JobItem]) -> list[Output | Exception]:
        """Run a batch; one Output, or the exception that failed it, per job in order."""
