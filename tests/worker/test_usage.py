"""What a finished job used, and how a batch's device time is divided among its jobs."""

from __future__ import annotations

import pytest

from shared.job_record import JobType
from tests.fixtures.jobs import new_record
from worker.pipelines.base import Output
from worker.usage import batch_usage, divide, measures


def chat_output(prompt: int, completion: int) -> Output:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return Output(summary={"text": "x", "usage": usage})


def test_a_batch_s_device_time_is_divided_by_each_job_s_share_of_the_work() -> None:
    chat = new_record(JobType.CHAT, messages=[{"role": "user", "content": "hi"}])
    used = batch_usage(2.0, [(chat, chat_output(10, 20)), (chat, chat_output(5, 5)), (chat, RuntimeError())])
    assert used == [
        {"prompt_tokens": 10, "completion_tokens": 20, "device_s": 1.5},
        {"prompt_tokens": 5, "completion_tokens": 5, "device_s": 0.5},
        {"device_s": 0.0},  # failed before its tokens were known: it counts no work
    ]
    assert sum(u["device_s"] for u in used) == pytest.approx(2.0)


def test_an_image_job_counts_images_and_pixels_times_steps_from_its_input_even_when_it_failed() -> None:
    big = new_record(prompt="x", width=128, height=64, steps=4, num_images=2)
    small = new_record(prompt="x", width=64, height=64, steps=2)
    assert measures(big, RuntimeError()) == {"images": 2, "pixel_steps": 2 * 128 * 64 * 4}
    used = batch_usage(1.0, [(big, Output()), (small, Output())])
    assert [u["device_s"] for u in used] == [pytest.approx(65536 / 73728), pytest.approx(8192 / 73728)]


def test_embed_tokens_are_counted_and_a_batch_with_no_counted_work_splits_equally() -> None:
    embed = new_record(JobType.EMBED, input=["a"])
    assert measures(embed, Output(summary={"usage": {"prompt_tokens": 3, "total_tokens": 3}})) == {
        "prompt_tokens": 3
    }
    assert divide(3.0, [0, 0, 0]) == [1.0, 1.0, 1.0]
    assert divide(3.0, []) == []
