"""`python -m webhooks` as a real process: it delivers, and stops cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.stack.deployment import Stack
from shared.store import JobStore
from tests.fixtures.receiver import Receiver
from tests.webhooks.conftest import hooked_job


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_sender_process_delivers_and_stops_on_a_signal(
    tmp_path: Path, redis_url: str, jobs: JobStore, sig: signal.Signals
) -> None:
    stack = Stack(tmp_path, env={"LLMB_REDIS_URL": redis_url, "LLMB_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"})
    with Receiver() as receiver:
        try:
            sender = stack.start_webhooks()
            job = hooked_job(jobs, receiver.url)
            (request,) = receiver.wait_for(1, timeout=30)
            assert request.headers["webhook-id"] == f"msg_{job.id}_completed"
            sender.proc.send_signal(sig)
            assert sender.proc.wait(timeout=15) == 0
            assert "stopped" in sender.log()
        finally:
            stack.stop()


def test_the_sender_imports_no_web_framework_queue_or_model_library() -> None:
    heavy = ("flask", "werkzeug", "celery", "kombu", "torch", "transformers", "diffusers")
    code = f"import sys, webhooks.main; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
