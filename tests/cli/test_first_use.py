"""`llmb` as a new user meets it: a mistyped command or option names the close one, and an `-o` that cannot be
written is refused before the job is submitted (the real entry point, `python -m cli`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO
from devtools.stack.process import free_port


def llmb(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m cli` against a port where nothing listens: any request it made would exit 5."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    env.update(PYTHONPATH=str(REPO), LLMB_URL=f"http://127.0.0.1:{free_port()}")
    cmd = [sys.executable, "-m", "cli", *argv]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["submit", "image", "a fox", "--widht", "64"], "--widht: did you mean --width?"),
        (["chat", "hi", "--max-tokesn", "5"], "--max-tokesn: did you mean --max-tokens?"),
        (["submit", "image", "a", "--stesp", "2"], "--stesp: did you mean --steps?"),
    ],
)
def test_a_mistyped_option_is_answered_by_its_command_with_the_close_one(argv: list[str], hint: str) -> None:
    done = llmb(*argv)
    assert done.returncode == 2
    assert hint in done.stderr
    assert f"llmb {argv[0]}" in done.stderr  # the command's usage, not the top-level one


@pytest.mark.parametrize(
    ("argv", "usage", "hint"),
    [
        (["submti", "image", "a fox"], "usage: llmb [", "invalid choice: 'submti' (did you mean submit?)"),
        (["keys", "craete", "--name", "ci"], "usage: llmb keys", "'craete' (did you mean create?)"),
        (["submit", "imgae", "a fox"], "usage: llmb submit", "'imgae' (did you mean image?)"),
        (["webhoks", "some-id"], "usage: llmb [", "'webhoks' (did you mean webhooks?)"),
    ],
)
def test_a_mistyped_command_is_answered_with_the_close_one(argv: list[str], usage: str, hint: str) -> None:
    done = llmb(*argv)
    assert done.returncode == 2
    assert hint in done.stderr
    assert usage in done.stderr  # the usage of the parser whose command was mistyped


def test_a_command_close_to_none_gets_no_suggestion() -> None:
    done = llmb("zzzzzz")
    assert done.returncode == 2
    assert "invalid choice: 'zzzzzz' (choose from 'chat'," in done.stderr
    assert "did you mean" not in done.stderr


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "nonexistent" / "x.png", "does not exist"),
        (lambda tmp: tmp, "it is a folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_job_runs(
    tmp_path: Path, make: object, says: str
) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    for argv in (["submit", "image", "a fox", "-o", str(target)], ["wait", "some-id", "-o", str(target)]):
        done = llmb(*argv)
        assert done.returncode == 9, done.stderr  # not 5: it never tried to reach the server
        assert says in done.stderr


def test_a_read_only_folder_is_refused_before_the_job_runs(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only folders")
    tmp_path.chmod(0o500)
    try:
        done = llmb("submit", "image", "a fox", "-o", str(tmp_path / "x.png"))
    finally:
        tmp_path.chmod(0o700)
    assert done.returncode == 9
    assert "is not writable" in done.stderr
