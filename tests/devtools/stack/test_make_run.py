"""`make run` with real processes: any signals stop everything, a SIGKILL takes the services with it, one run
per data folder, the user's settings reach the services, and only this run's logs show."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from devtools import REPO
from devtools.stack.process import free_port, wait_until
from tests.devtools.stack.conftest import MakeRun
from tests.devtools.stack.processes import cmdline, environ

MakeRunFactory = Callable[..., MakeRun]
HELD_JOB = {"type": "image", "input": {"prompt": "hold:/nonexistent/never", "width": 64, "height": 64}}


def keep_the_worker_busy(port: int) -> None:
    """Submit a job that holds until it must stop, and wait until the worker runs it."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        job_id = http.post("/v1/jobs", json=HELD_JOB).json()["id"]
        wait_until(
            lambda: http.get(f"/v1/jobs/{job_id}").json()["status"] == "running",
            timeout=60,
            what="the held job running",
        )


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)],
    ids=["SIGTERM twice", "Ctrl-C twice"],
)
def test_a_second_signal_while_stopping_hurries_and_leaves_nothing(
    make_run: MakeRunFactory, first: int, second: int
) -> None:
    run = make_run()
    run.ready()
    keep_the_worker_busy(run.port)  # so the worker has a job to hand back while it stops
    run.signal(first)
    run.wait_for("stopping worker")
    run.signal(second)
    assert run.exited(timeout=25) == 0  # the worker's 30 s grace was cut short
    run.assert_nothing_left()


def test_closing_the_terminal_stops_everything_in_order(make_run: MakeRunFactory) -> None:
    run = make_run(terminal=True)
    run.ready()
    run.hang_up()
    assert run.exited() == 0  # handled like Ctrl-C, not killed by the SIGHUP
    run.assert_nothing_left()


def test_ctrl_c_while_starting_stops_what_has_started(make_run: MakeRunFactory) -> None:
    run = make_run()
    run.wait_for("starting the API")
    run.services = run.processes_now()
    # Redis, the API, the webhook sender, the batch runner, the worker
    assert len({p.pgrp for p in run.services}) == 5
    run.signal(signal.SIGINT)
    assert run.exited() == 0
    run.assert_nothing_left()


def test_the_services_die_with_a_sigkilled_make_run(make_run: MakeRunFactory) -> None:
    run = make_run()
    run.ready()
    run.signal(signal.SIGKILL)
    assert run.exited() == -signal.SIGKILL
    run.assert_nothing_left()


def test_the_user_s_llmb_settings_reach_every_service_and_show_masked(make_run: MakeRunFactory) -> None:
    run = make_run(settings={"LLMB_LOG_LEVEL": "DEBUG", "LLMB_S3_SECRET_KEY": "hunter2"})
    run.ready()
    settings_line = run.wait_for("Settings from your environment")
    assert "LLMB_LOG_LEVEL=DEBUG" in settings_line
    assert "LLMB_S3_SECRET_KEY=***" in settings_line
    assert "hunter2" not in run.output
    # Redis reads no LLMB_ setting (and overwrites its environment with its title); the others do.
    # Told apart by the module each runs, not by "python" in a path: a fork of make run not yet exec'd
    # (its command line is still make run's) or a Redis binary under site-packages would count too.
    ours = [p for p in run.services if p.ppid == run.proc.pid and _service_module(p.pid)]
    modules = ["api.batches", "gunicorn", "webhooks", "worker"]
    assert sorted(str(_service_module(p.pid)) for p in ours) == modules
    assert all(environ(p.pid)["LLMB_LOG_LEVEL"] == "DEBUG" for p in ours)
    run.wait_for("[worker] ")
    assert any(" DEBUG" in line for line in run.output.splitlines() if line.startswith("[worker] "))


def test_a_second_run_on_the_same_data_folder_is_refused(make_run: MakeRunFactory) -> None:
    first = make_run()
    first.ready()
    second = make_run(root=first.root)
    assert second.exited() == 1
    assert f"another `make run` (pid {first.proc.pid}) is using {first.root}" in second.output
    assert first.proc.poll() is None
    assert len(first.processes_now()) >= 3


def test_a_run_shows_its_own_logs_not_the_last_run_s(make_run: MakeRunFactory) -> None:
    port = free_port()
    first = make_run(port=port)
    first.ready()
    listening = first.wait_for(f"Listening at: http://127.0.0.1:{port}")  # gunicorn's, with its pid
    first.signal(signal.SIGINT)
    assert first.exited() == 0
    second = make_run(root=first.root, port=port)
    second.ready()
    assert second.wait_for(f"Listening at: http://127.0.0.1:{port}") != listening
    assert listening not in second.output


def test_with_auth_on_the_ready_text_s_key_hint_works_as_printed_on_its_port(
    make_run: MakeRunFactory,
) -> None:
    admin = "walk-admin-key-" + "x" * 24
    run = make_run(settings={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": admin})
    run.ready()
    hint = run.wait_for("keys create --name NAME").strip()
    assert hint.startswith('LLMB_API_KEY="$LLMB_ADMIN_KEY" .venv/bin/llmb')
    assert f"--url http://127.0.0.1:{run.port} " in hint
    assert admin not in run.output
    # The hint as a shell runs it: the admin key from the environment, never on the command line.
    command = hint.replace(".venv/bin/llmb", f"{sys.executable} -m cli").replace("NAME", "walker")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    env.update(PYTHONPATH=str(REPO), LLMB_ADMIN_KEY=admin)
    made = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    answer = httpx.get(f"http://127.0.0.1:{run.port}/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    # The playground's address is printed beside the docs', and serves the page.
    places = run.wait_for("API docs:").split()
    assert places[:2] == ["Playground:", f"http://127.0.0.1:{run.port}/"]
    page = httpx.get(places[1], follow_redirects=True)
    assert (page.status_code, page.headers["content-type"].split(";")[0]) == (200, "text/html")


def _service_module(pid: int) -> str | None:
    """The module a service process runs with `python -m` (gunicorn, webhooks, ...), else None."""
    args = cmdline(pid)
    if len(args) < 3 or not Path(args[0]).name.startswith("python") or args[1] != "-m":
        return None
    return args[2] if args[2] in {"gunicorn", "webhooks", "api.batches", "worker"} else None
