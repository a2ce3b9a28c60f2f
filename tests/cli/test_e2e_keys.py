"""The real `llmb` process against a real API with auth on: keys made, used, refused and revoked.

Only Redis and the API run (no worker): nothing here needs a job to be worked on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard

pytestmark = pytest.mark.slow

ADMIN = "cli-e2e-admin-key"
KEY = re.compile(r"llmb_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    stack = Stack(tmp_path_factory.mktemp("stack"))
    try:
        stack.start_redis()
        api = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN})
        yield f"http://127.0.0.1:{api.port}"
    finally:
        discard(stack)


def llmb(url: str, *args: str, env_key: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as its own process, with no LLMB_ settings but the URL and `env_key` as LLMB_API_KEY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    env["PYTHONIOENCODING"] = "utf-8"
    if env_key is not None:
        env["LLMB_API_KEY"] = env_key
    cmd = [sys.executable, "-m", "cli", "--url", url, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO, env=env, check=False)


def create_key(url: str, *options: str) -> tuple[str, str]:
    """A new key made by the admin: (its id, the whole key)."""
    run = llmb(url, "--api-key", ADMIN, "keys", "create", *options)
    assert run.returncode == 0, run.stderr
    found = KEY.fullmatch(run.stdout.rstrip("\n"))
    assert found is not None, run.stdout  # the key alone on its line: KEY=$(llmb keys create ...)
    assert run.stderr.startswith(f"key {found.group(1)} for tenant ")
    assert run.stderr.endswith("; the secret is shown only now: keep it safe\n")
    return found.group(1), found.group(0)


def test_a_key_lists_its_jobs_until_it_is_revoked(api_url: str) -> None:
    key_id, key = create_key(api_url, "--name", "e2e reader", "--tenant", "e2e-cli")
    listed = llmb(api_url, "--api-key", key, "list")
    keys = llmb(api_url, "keys", "list", "--tenant", "e2e-cli", env_key=ADMIN)
    revoked = llmb(api_url, "--api-key", ADMIN, "keys", "revoke", key_id)

    assert (listed.returncode, listed.stdout) == (0, "no jobs\n")
    assert [line.split()[0] for line in keys.stdout.splitlines()] == ["ID", key_id]
    assert "active" in keys.stdout.splitlines()[1].split()
    assert key not in keys.stdout
    assert (revoked.returncode, revoked.stdout) == (0, f"{key_id} revoked\n")
    refused = refused_list(api_url, key)
    assert refused.returncode == 8, refused.stderr
    assert refused.stderr == f"error: the API key is revoked (sent llmb_{key_id}_… from LLMB_API_KEY)\n"
    assert KEY.search(refused.stdout + refused.stderr) is None  # no secret, of this key or another


def refused_list(url: str, key: str, *, within_s: float = 5.0) -> subprocess.CompletedProcess[str]:
    """`llmb list` with `key` from LLMB_API_KEY, again until it is refused (every process does within 1 s)."""
    deadline = time.monotonic() + within_s
    while True:
        run = llmb(url, "list", env_key=key)
        if run.returncode != 0 or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_create_with_json_shows_the_whole_answer(api_url: str) -> None:
    run = llmb(api_url, "--api-key", ADMIN, "keys", "create", "--name", "ci", "--expires", "1h", "--json")
    assert run.returncode == 0, run.stderr
    made = json.loads(run.stdout)
    assert KEY.fullmatch(made["key"])
    assert made["key"].startswith(f"llmb_{made['id']}_")
    assert (made["tenant"], made["scopes"], made["state"]) == ("ci", ["jobs:read", "jobs:write"], "active")
    assert made["expires_at"] is not None


def test_no_key_exits_8_saying_how_to_give_one(api_url: str) -> None:
    run = llmb(api_url, "list")
    assert (run.returncode, run.stdout) == (8, "")
    assert run.stderr == "error: the server needs an API key: pass --api-key KEY or set LLMB_API_KEY\n"


def test_a_read_only_key_cannot_submit(api_url: str) -> None:
    key_id, key = create_key(api_url, "--name", "reader", "--scope", "jobs:read")

    submitted = llmb(api_url, "--api-key", key, "submit", "image", "x")
    managed = llmb(api_url, "keys", "list", env_key=key)

    assert (submitted.returncode, submitted.stdout) == (8, "")
    sent = f"(sent llmb_{key_id}_… from --api-key)"
    assert submitted.stderr == f"error: this key lacks the scope jobs:write {sent}\n"
    assert managed.returncode == 8
    assert (
        managed.stderr == f"error: this key lacks the scope admin (sent llmb_{key_id}_… from LLMB_API_KEY)\n"
    )
    assert key not in submitted.stderr + managed.stderr


def test_a_wrong_secret_and_an_unknown_key_id(api_url: str) -> None:
    key_id, key = create_key(api_url, "--name", "guessed")
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    refused = llmb(api_url, "--api-key", wrong, "list")
    unknown = llmb(api_url, "--api-key", ADMIN, "keys", "revoke", "nosuchkey000")

    assert refused.returncode == 8
    assert refused.stderr == f"error: the API key is not valid (sent llmb_{key_id}_… from --api-key)\n"
    assert wrong[-20:] not in refused.stderr
    assert (unknown.returncode, unknown.stderr) == (3, "error: no key nosuchkey000\n")
