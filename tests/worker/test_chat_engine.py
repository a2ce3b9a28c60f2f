"""Chat on the continuous-batching engine: jobs join and leave a running batch, each reply its own."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.inputs import ChatInput
from shared.settings import Settings
from worker.pipelines.base import JobStopped, Output
from worker.pipelines.chat import TransformersChatPipeline

REPO = Path(__file__).resolve().parents[2]
HELLO = [{"role": "user", "content": "hello"}]


class RecordingSteps:
    """`Steps` for a direct pipeline call: keeps the streamed text; a row stops once `stop(row)` says so."""

    def __init__(self, rows: int, stop: Callable[[int, int], bool] = lambda row, count: False) -> None:
        self.texts = [""] * rows
        self.counts = [0] * rows
        self.stop = stop
        self.first_token = threading.Event()

    def progress(self, row: int, step: int, total: int) -> None:
        pass

    def token(self, row: int, text: str, *, count: int, total: int) -> None:
        self.texts[row] += text
        self.counts[row] = count
        self.first_token.set()

    def wanted(self, row: int) -> bool:
        return not self.stop(row, self.counts[row])

    def checkpoint(self) -> None:
        if not any(self.wanted(row) for row in range(len(self.texts))):
            raise JobStopped()


@pytest.fixture(scope="module")
def chat() -> TransformersChatPipeline:
    pipeline = TransformersChatPipeline(
        Settings(data_dir=REPO / "var", device="cpu", chat_engine="continuous")
    )
    pipeline.load()
    # No end-of-text: a random-weight model samples it at any step, and where depends on the CPU's
    # float rounding, so a reply the test needs to run on (to a stop, a stop string, its max_tokens)
    # could end first. Every reply here ends at its max_tokens, a stop string, or a stop.
    pipeline._eos_ids = lambda: [len(pipeline.tokenizer) + 7]  # type: ignore[method-assign]
    yield pipeline
    assert pipeline.engine is not None
    pipeline.engine.stop()


def run(
    chat: TransformersChatPipeline, jobs: list[dict[str, Any]], steps: RecordingSteps | None = None
) -> list[Any]:
    works = [chat.prepare(ChatInput.model_validate({"messages": HELLO, **job})) for job in jobs]
    outputs = chat.run(works, steps or RecordingSteps(len(works)))
    return [o.summary if isinstance(o, Output) else o for o in outputs]


def test_a_seeded_reply_is_the_same_alone_and_inside_any_batch(chat: TransformersChatPipeline) -> None:
    job = {"seed": 7, "temperature": 1.0, "top_p": 0.9, "max_tokens": 24}
    alone = run(chat, [job])[0]
    mates = [{"seed": s, "temperature": 1.0, "max_tokens": 40} for s in (1, 2, 3)]
    batched = run(chat, [*mates[:2], job, mates[2], {"temperature": 0.0, "max_tokens": 8}])
    assert batched[2]["text"] == alone["text"]
    assert alone["usage"]["completion_tokens"] > 0
    assert run(chat, [{**job, "seed": 8}])[0]["text"] != alone["text"]
    assert batched[0]["text"] != batched[1]["text"]  # each seed its own noise


def test_streamed_pieces_make_the_reply_and_max_tokens_holds(chat: TransformersChatPipeline) -> None:
    steps = RecordingSteps(2)
    replies = run(chat, [{"seed": 1, "max_tokens": 5}, {"seed": 2, "max_tokens": 30}], steps)
    assert [r["text"] for r in replies] == steps.texts
    assert replies[0]["usage"]["completion_tokens"] <= 5 < replies[1]["usage"]["completion_tokens"]


def test_a_stop_string_cuts_the_reply_and_its_request_leaves(chat: TransformersChatPipeline) -> None:
    whole = run(chat, [{"seed": 11, "temperature": 1.0, "max_tokens": 40}])[0]["text"]
    stop = whole[len(whole) // 2 : len(whole) // 2 + 3]
    cut = run(chat, [{"seed": 11, "temperature": 1.0, "max_tokens": 40, "stop": [stop]}])[0]
    assert cut["text"] == whole[: whole.find(stop)]
    assert cut["finish_reason"] == "stop"


def test_stopping_one_job_leaves_the_others_text_unchanged(chat: TransformersChatPipeline) -> None:
    jobs = [{"seed": s, "temperature": 1.0, "max_tokens": 30} for s in (21, 22, 23)]
    free = run(chat, jobs)
    steps = RecordingSteps(3, stop=lambda row, count: row == 1 and count >= 3)
    stopped = run(chat, jobs, steps)
    assert stopped[1]["finish_reason"] == "stopped"
    assert [stopped[0], stopped[2]] == [free[0], free[2]]


def test_a_short_job_joins_a_running_batch_and_ends_before_it(chat: TransformersChatPipeline) -> None:
    short_done = threading.Event()
    # The long job runs until the short one has ended (it cannot end first: only this stops it).
    long_steps = RecordingSteps(1, stop=lambda row, count: short_done.is_set())
    long_result: list[Any] = []
    long_job = {"temperature": 1.0, "seed": 5, "max_tokens": 400}

    def run_long() -> None:
        try:
            long_result.append(run(chat, [long_job], long_steps)[0])
        except JobStopped as exc:  # the runner's way to learn that every job of a run stopped
            long_result.append(exc)

    runner = threading.Thread(target=run_long)
    runner.start()
    assert long_steps.first_token.wait(60)
    short = run(chat, [{"temperature": 0.0, "max_tokens": 4}])[0]
    short_done.set()
    runner.join(60)
    assert short["finish_reason"] in ("length", "stop")
    assert len(long_result) == 1
    assert isinstance(long_result[0], JobStopped)
    assert 0 < long_steps.counts[0] < 400


def test_a_canceled_job_frees_its_place_for_a_waiting_one() -> None:
    one_place = TransformersChatPipeline(Settings(data_dir=REPO / "var", device="cpu", chat_max_requests=1))
    one_place.load()
    one_place._eos_ids = lambda: [len(one_place.tokenizer) + 7]  # type: ignore[method-assign]  # as above
    released = threading.Event()
    long_steps = RecordingSteps(1, stop=lambda row, count: released.is_set())
    waiting_steps = RecordingSteps(1)
    seen_while_long_ran: list[bool] = []
    original = waiting_steps.token

    def token(row: int, text: str, *, count: int, total: int) -> None:
        seen_while_long_ran.append(not released.is_set())
        original(row, text, count=count, total=total)

    waiting_steps.token = token  # type: ignore[method-assign]
    results: list[Any] = []

    def run_long() -> None:
        with contextlib.suppress(JobStopped):
            run(one_place, [{"temperature": 1.0, "seed": 5, "max_tokens": 400}], long_steps)

    runner = threading.Thread(target=run_long)
    runner.start()
    assert long_steps.first_token.wait(60)
    waiter = threading.Thread(
        target=lambda: results.append(run(one_place, [{"max_tokens": 4}], waiting_steps))
    )
    waiter.start()
    while len(one_place.engine._routes) < 2:  # the waiting job's request is in the engine, queued
        assert waiter.is_alive()
        time.sleep(0.01)
    released.set()  # the long job is canceled: its place goes to the waiting one
    runner.join(60)
    waiter.join(60)
    assert one_place.engine is not None
    one_place.engine.stop()
    assert results[0][0]["finish_reason"] in ("length", "stop")
    assert seen_while_long_ran == [False] * len(
        seen_while_long_ran
    )  # it started only once the place was free
