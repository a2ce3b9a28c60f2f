"""A short mixed load on the real API: steady image, chat and embed jobs, bursts that queue, a few jobs
that fail or are canceled, and requests refused for their key or a limit, so every panel has data."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

JOBS: dict[str, dict[str, Any]] = {
    "image": {"prompt": "a red fox", "width": 96, "height": 96, "steps": 4},
    "chat": {"messages": [{"role": "user", "content": "Tell me about foxes."}], "max_tokens": 24},
    "embed": {"input": ["a cat", "a kitten", "tax law"]},
}
BURST = {"prompt": "a fox in the snow", "width": 128, "height": 128, "steps": 8}
# Longer than all-MiniLM-L6-v2 reads (256 tokens), without truncate: the job fails with invalid_input.
TOO_LONG = {"input": " ".join(["fox"] * 600)}
BURST_SIZE = 8
# Shaped like a key (llmb_<12-character id>_<43-character secret>), but no key has this id.
UNKNOWN_KEY = "llmb_unknown00000_" + "x" * 43
BURST_EVERY_S = 20
WAIT = 30


def submit(client: httpx.Client, kind: str, input_: dict[str, Any], *, wait: int = 0) -> httpx.Response:
    """POST /v1/jobs; with `wait`, the answer comes when the job ended (or after `wait` s)."""
    headers = {"Prefer": f"wait={wait}"} if wait else {}
    return client.post("/v1/jobs", json={"type": kind, "input": input_}, headers=headers)


def _steady(client: httpx.Client, deadline: float, tally: Counter[str]) -> None:
    """One job after another, each type in turn; every fourth chat is followed on its event stream."""
    for n, kind in enumerate(itertools.cycle(JOBS)):
        if time.monotonic() >= deadline:
            return
        if kind == "chat" and n % 4 == 1:
            job = submit(client, kind, JOBS[kind]).json()
            with client.stream("GET", f"/v1/jobs/{job['id']}/events") as stream:
                for _ in stream.iter_lines():
                    pass
            tally["streamed"] += 1
        else:
            response = submit(client, kind, JOBS[kind], wait=WAIT)
            tally[f"{kind} {response.json().get('status')}"] += 1


def _bursts(client: httpx.Client, deadline: float, tally: Counter[str]) -> None:
    """Every BURST_EVERY_S: a burst of bigger images that queue, a job that fails, one canceled queued."""
    every_s = BURST_EVERY_S
    while time.monotonic() + every_s / 2 < deadline:
        started = time.monotonic()
        ids = [submit(client, "image", BURST).json()["id"] for _ in range(BURST_SIZE)]
        ids.append(submit(client, "embed", TOO_LONG).json()["id"])
        canceled = submit(client, "image", BURST).json()["id"]
        client.post(f"/v1/jobs/{canceled}/cancel")
        for job_id in ids:
            status = client.get(f"/v1/jobs/{job_id}", params={"wait": WAIT}).json()["status"]
            tally[f"burst {status}"] += 1
        time.sleep(max(0.0, every_s - (time.monotonic() - started)))


def _refused(bad: httpx.Client, limited: httpx.Client, deadline: float, tally: Counter[str]) -> None:
    """Now and then a request with an unknown key (401) and a submission over its key's limit (429)."""
    while time.monotonic() < deadline:
        tally[f"unknown key {bad.get('/v1/jobs').status_code}"] += 1
        tally[f"limited key {submit(limited, 'embed', JOBS['embed']).status_code}"] += 1
        time.sleep(4)


class Running:
    """A load running in threads: `done()` once every thread ended; `finish()` waits and tallies outcomes."""

    def __init__(self, clients: list[httpx.Client], tasks: list[tuple[Callable[..., None], tuple[Any, ...]]]):
        self.clients = clients
        self.tally: Counter[str] = Counter()
        self.pool = ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="load")
        self.futures = [self.pool.submit(task, *args, self.tally) for task, args in tasks]

    def done(self) -> bool:
        """Whether every thread of the load ended."""
        return all(f.done() for f in self.futures)

    def finish(self) -> Counter[str]:
        """Wait for the load (raising what a thread raised), close its clients; how the requests ended."""
        try:
            for future in self.futures:
                future.result()
        finally:
            self.pool.shutdown()
            for client in self.clients:
                client.close()
        return self.tally


def run(api_url: str, *, keys: dict[str, str], duration_s: float) -> Running:
    """Start the load for `duration_s`: two steady clients, bursts every 20 s, refused requests.

    `keys` holds a working key (`user`) and one whose submissions per minute are capped (`limited`).
    """
    deadline = time.monotonic() + duration_s
    steady = [http_client(api_url, keys["user"]) for _ in range(3)]
    bad, limited = http_client(api_url, UNKNOWN_KEY), http_client(api_url, keys["limited"])
    tasks: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (_steady, (steady[0], deadline)),
        (_steady, (steady[1], deadline)),
        (_bursts, (steady[2], deadline)),
        (_refused, (bad, limited, deadline)),
    ]
    return Running([*steady, bad, limited], tasks)


def http_client(api_url: str, key: str) -> httpx.Client:
    """A client of the API that sends `key`, with room for a long-wait."""
    return httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=WAIT + 30)


def create_keys(api_url: str, admin_key: str) -> dict[str, str]:
    """A key for the load (`user`) and one allowed two submissions a minute (`limited`)."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    bodies = {
        "user": {"name": "load", "tenant": "dashboard"},
        "limited": {"name": "limited", "tenant": "dashboard", "jobs_per_minute": 2},
    }
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        created = {name: client.post("/v1/keys", json=body) for name, body in bodies.items()}
    return {name: response.raise_for_status().json()["key"] for name, response in created.items()}
