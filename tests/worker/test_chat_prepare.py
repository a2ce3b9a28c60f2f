"""A conversation the model's chat template refuses fails that job alone, as invalid_input with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.job_record import JobStatus, JobType
from shared.settings import Settings
from shared.vocabulary import ErrorCode
from tests.fixtures.jobs import submit
from worker.delivery import run_job
from worker.pipelines.chat import TransformersChatPipeline

REPO = Path(__file__).resolve().parents[2]
# A Gemma-style template: no system turn.
NO_SYSTEM = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}<|assistant|>"
)


@pytest.fixture(scope="module")
def strict_chat() -> TransformersChatPipeline:
    from worker.tinymodels.__main__ import main as build

    assert build(["--out", str(REPO / "var" / "models"), "--only", "chat"]) == 0
    pipeline = TransformersChatPipeline(Settings(data_dir=REPO / "var", device="cpu"))
    pipeline.load()
    pipeline.tokenizer.chat_template = NO_SYSTEM
    return pipeline


def test_a_refused_conversation_fails_alone_and_its_batch_mates_succeed(runtime_for, strict_chat) -> None:
    rt = runtime_for(strict_chat, batch_max=4, batch_wait_ms=0)
    plain = [{"role": "user", "content": "hello"}]
    jobs = [
        submit(rt.store, JobType.CHAT, messages=plain, max_tokens=4),
        submit(
            rt.store, JobType.CHAT, messages=[{"role": "system", "content": "be terse"}, *plain], max_tokens=4
        ),
        submit(rt.store, JobType.CHAT, messages=plain, max_tokens=4),
    ]
    run_job(jobs[0].id, rt)
    records = [rt.store.get(j.id) for j in jobs]
    assert [r.status for r in records] == [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SUCCEEDED]
    assert records[1].error.code == ErrorCode.INVALID_INPUT
    assert "System role not supported" in records[1].error.message
