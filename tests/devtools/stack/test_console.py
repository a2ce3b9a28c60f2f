"""What `make run` prints: the user's settings with secrets masked, and whole log lines."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.stack.console import LogTail, masked, ready_text, settings_text
from devtools.stack.process import Service


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("LLMB_LOG_LEVEL", "DEBUG", "DEBUG"),
        ("LLMB_S3_SECRET_KEY", "hunter2", "***"),
        ("LLMB_API_KEYS", "a,b", "***"),
        ("LLMB_HF_TOKEN", "hf_x", "***"),
        ("LLMB_DB_PASSWORD", "pw", "***"),
        ("LLMB_REDIS_URL", "redis://:pw@10.0.0.1:6379/0", "redis://:***@10.0.0.1:6379/0"),
        ("LLMB_REDIS_URL", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_secrets_are_masked(name: str, value: str, shown: str) -> None:
    assert masked(name, value) == shown


def test_the_settings_line_lists_what_the_user_set() -> None:
    assert "the defaults" in settings_text({})
    text = settings_text({"LLMB_LOG_LEVEL": "DEBUG", "LLMB_CHAT_MODEL": "gpt2"})
    assert "LLMB_LOG_LEVEL=DEBUG, LLMB_CHAT_MODEL=gpt2" in text


def test_the_log_tail_echoes_whole_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("first\nsec")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    out = io.StringIO()
    tail = LogTail(out)
    tail.follow([Service("api", proc, log)])
    tail.pump()
    assert out.getvalue() == "[api] first\n"
    with log.open("a") as f:
        f.write("ond\nthird")
    tail.close()
    assert out.getvalue() == "[api] first\n[api] second\n[api] third\n"


def test_with_auth_on_every_example_in_the_ready_text_sends_the_key_it_says_how_to_make() -> None:
    text = ready_text(port=8311, root=Path("var"), settings={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": "x" * 32})
    examples = [line for line in text.splitlines() if "localhost:8311" in line or "submit image" in line]
    assert len(examples) == 4
    assert all('Bearer $KEY"' in line or 'LLMB_API_KEY="$KEY" ' in line for line in examples), examples
    assert "export KEY=<the key it shows>" in text
    # The key-making hint reaches this run's port and keeps the admin key off the command line (ps).
    hint = 'LLMB_API_KEY="$LLMB_ADMIN_KEY" .venv/bin/llmb --url http://127.0.0.1:8311 keys create --name NAME'
    assert hint in text
    assert "--api-key" not in text
    assert "x" * 32 not in text
    plain = ready_text(port=8000, root=Path("var"), settings={})
    assert "$KEY" not in plain
