"""What a pipeline is to the worker, and all it knows of the worker: set up once, run batches, report steps.

A pipeline never calls up into the infrastructure: it gets a `Steps` object and tells it how each
row of its batch is doing. The runner's `Steps` buffers the reports, sends them at most once per
interval, learns which jobs were canceled, handed back or timed out, and raises `JobStopped` at a
checkpoint once no row is wanted. Rows are the positions of the jobs in the batch passed to `run`;
a row that is no longer wanted may be dropped from the computation (it "leaves" the batch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from shared.inputs import JobInput

InputT_contra = TypeVar("InputT_contra", bound=JobInput, contravariant=True)
WorkT = TypeVar("WorkT")


@dataclass(frozen=True)
class Artifact:
    """One result object a job produced (an image, a JSON document)."""

    name: str
    data: bytes
    content_type: str
    meta: dict[str, Any] = field(default_factory=dict)
    # Bytes still being made off the device (e.g. a PNG encoding in a thread): `body()` waits for them.
    later: Callable[[], bytes] | None = None

    def body(self) -> bytes:
        """The object's bytes: `data`, or what `later` gives once it is done (re-raising its error)."""
        return self.data if self.later is None else self.later()


@dataclass
class Output:
    """Everything one job produced: objects to store and a small inline summary."""

    artifacts: list[Artifact] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


class JobStopped(Exception):  # noqa: N818 - a control signal, not a failure
    """Raised by `Steps.checkpoint` when no job of the batch is wanted any more."""


class Steps(Protocol):
    """How a running batch reports as it goes (the pipeline's only view of the outside)."""

    def progress(self, row: int, step: int, total: int) -> None:
        """Row `row` has done `step` of `total` steps (only the latest is sent)."""

    def token(self, row: int, text: str, *, count: int, total: int) -> None:
        """Row `row` generated `text`; `count` tokens of at most `total` so far."""

    def wanted(self, row: int) -> bool:
        """False once the row's job must stop (canceled, past its deadline, handed back, taken over)."""

    def checkpoint(self) -> None:
        """Send what is due and learn of stops; raises JobStopped once no row is wanted."""


class Pipeline(Protocol[InputT_contra, WorkT]):
    """A model pipeline: `load` once per process, `prepare` each job, then `run` batches of them."""

    def load(self) -> None:
        """Load weights and warm up; the worker reports ready only after this."""

    def prepare(self, job_input: InputT_contra) -> WorkT:
        """One job's own work before batching (render, tokenize); InputError if the model refuses it."""

    def run(self, batch: Sequence[WorkT], steps: Steps) -> list[Output | Exception]:
        """One Output (or the exception that failed that job) per prepared job, in order.

        Calls `steps.checkpoint()` at least once per step; lets JobStopped propagate.
        """
