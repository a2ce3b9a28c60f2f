"""`make run` takes every LLMB_ setting its ready line shows, or refuses to start with a sentence saying what
to use instead: the ones it sets itself, names no service reads (with the close one), values they refuse."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO
from devtools.stack import deployment
from devtools.stack.checks import OWN_SETTINGS, known_variables, refusals
from devtools.stack.console import CLI_VARIABLES, LogTail
from devtools.stack.deployment import Stack
from devtools.stack.process import Service, spawn
from devtools.stack.run import start


def make_run(tmp_path: Path, settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m devtools.stack` with these settings, on a data folder of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    env.update(PYTHONPATH=str(REPO), **settings)
    cmd = [sys.executable, "-m", "devtools.stack", "--root", str(tmp_path / "var"), "--port", "1"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("name", "value", "instead"),
    [
        ("LLMB_API_BIND", "127.0.0.1:8200", "`make run PORT=N`"),
        ("LLMB_QUEUES", "chat", "`make run QUEUES=chat,embed`"),
        ("LLMB_REDIS_URL", "redis://127.0.0.1:6380/0", "unset LLMB_REDIS_URL"),
        ("LLMB_READY_FILE", "/tmp/ready", "unset LLMB_READY_FILE"),
        ("LLMB_DATA_DIR", "/tmp/data", "unset LLMB_DATA_DIR"),
        ("LLMB_CHAT_MODLE", "gpt2", "did you mean LLMB_CHAT_MODEL?"),
        ("LLMB_LIMITS__KEY_JOBS_PER_MINUT", "5", "did you mean LLMB_LIMITS__KEY_JOBS_PER_MINUTE?"),
        ("LLMB_API_WORKERS", "two", "LLMB_API_WORKERS=two is not a value it takes"),
        ("LLMB_PORT", "8412", "unset LLMB_PORT and run `make run PORT=8412`"),
        ("LLMB_AUTH", "on", "export LLMB_ADMIN_KEY="),
    ],
)
def test_a_setting_make_run_would_not_honour_is_refused_with_what_to_use_instead(
    tmp_path: Path, name: str, value: str, instead: str
) -> None:
    done = make_run(tmp_path, {name: value})
    assert done.returncode == 2
    assert "make run will not start" in done.stderr
    assert instead in done.stderr
    assert not (tmp_path / "var").exists()  # nothing started


def test_the_cli_s_variables_and_known_settings_are_taken() -> None:
    environ = {"LLMB_URL": "http://x", "LLMB_API_KEY": "k", "LLMB_LOG_LEVEL": "DEBUG"}
    environ |= {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": "a" * 32, "LLMB_LIMITS__QUEUE_MAX_WAITING": "5"}
    assert refusals(environ) == []


def test_every_setting_make_run_does_not_refuse_reaches_its_services_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The services' environments as `make run` builds them: each taken setting keeps the user's value."""
    taken = [n for n in known_variables() if n not in OWN_SETTINGS and n not in CLI_VARIABLES]
    for name in taken:
        monkeypatch.setenv(name, f"user-{name}")
    seen: dict[str, dict[str, str]] = {}

    def record(name: str, cmd: list[str], *, log_dir: Path, env: dict[str, str], **kw: object) -> Service:
        seen[name] = env
        return spawn(name, [sys.executable, "-c", "pass"], log_dir=log_dir)

    fake_redis = Service("redis", subprocess.Popen(["true"]), tmp_path / "redis.log", port=6399)
    fake_redis.log_path.touch()
    monkeypatch.setattr(deployment, "spawn", record)
    monkeypatch.setattr(deployment, "start_redis", lambda *a, **kw: fake_redis)
    monkeypatch.setattr(Stack, "wait_ready", lambda *a, **kw: None)
    stack = Stack(tmp_path / "var", inherit_env=True)
    args = argparse.Namespace(port=8311, queues="image", redis_port=6399)
    tail = LogTail(io.StringIO())
    try:
        start(stack, args, {k: os.environ[k] for k in taken}, tail)
    finally:
        tail.close()
        stack.stop()
    assert set(seen) == {"api-8311", "batches", "webhooks", "worker"}
    for name, env in seen.items():
        changed = [n for n in taken if env.get(n) != f"user-{n}"]
        assert not changed, f"{name} would not get {changed} as the user set them"
