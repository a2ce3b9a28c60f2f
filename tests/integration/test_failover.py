"""Redis Sentinel failover under load (issue 23): the master is SIGKILLed, a replica promoted, nothing lost.

One deployment asks three real sentinels for its master. Before the kill a batch is running, a
long-wait and an SSE stream wait on it, a webhook delivery hangs at its receiver and a rate-limited
key has used half its minute; after it every one of them ends as it would have without the kill.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.stack.deployment import Stack
from devtools.stack.process import free_port
from devtools.stack.sentinel import SentinelSet, ask
from tests.fixtures.receiver import HANG, Receiver
from tests.fixtures.stacks import discard
from tests.integration.conftest import SCRIPTED, Api
from tests.integration.test_outages import held_batch
from tests.integration.test_webhooks import HOOKS, attempts_until

ADMIN = "failover-admin-key"
BATCHED = {**SCRIPTED, "LLMB_BATCH_MAX": "4", "LLMB_BATCH_WAIT_MS": "0"}
IMAGE = {"type": "image", "input": {"prompt": "ok", "steps": 1, "width": 64, "height": 64}}


class Deployment:
    """The API (auth on), a batching worker and the webhook sender, all behind a Sentinel set."""

    def __init__(self, stack: Stack, redis_set: SentinelSet) -> None:
        self.stack, self.redis_set = stack, redis_set
        port = free_port()
        stack.env.update(
            {
                **HOOKS,
                "LLMB_WEBHOOK_TIMEOUT_S": "10",  # a delivery stays in flight across the failover
                "LLMB_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "LLMB_AUTH": "on",
                "LLMB_ADMIN_KEY": ADMIN,
            }
        )
        self.api = Api(stack.start_api(port=port).port)
        self.api.http.headers["Authorization"] = f"Bearer {self.key()}"
        stack.start_worker(env=BATCHED)
        stack.start_webhooks()

    def key(self, **body: Any) -> str:
        """A new API key's secret."""
        made = self.api.http.post(
            "/v1/keys", json={"name": "failover", **body}, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["key"])


@pytest.fixture
def deployment(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    stack = Stack(tmp_path / "stack")
    try:
        yield Deployment(stack, stack.start_redis_sentinel())
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            for svc in stack.services:
                print(f"----- {svc.name} -----\n{svc.log()[-3000:]}")
        discard(stack)


def in_background(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run `work` in a thread now; the returned call joins it and gives its result (or raises its error)."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(("ok", work()))
        except BaseException as exc:  # noqa: BLE001 - handed to the joining test
            box.append(("error", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(timeout=120)
        assert box, "the background request never ended"
        kind, value = box[0]
        if kind == "error":
            raise value
        return value

    return join


def sse_frames(api: Api, job_id: str) -> list[tuple[str, str]]:
    """The job's SSE frames (id, event) until `done`, reconnecting from the last id if the stream breaks."""
    frames: list[tuple[str, str]] = []
    while not frames or frames[-1][1] != "done":
        cursor = {"Last-Event-ID": frames[-1][0]} if frames and frames[-1][0] else {}
        try:
            with api.http.stream("GET", f"/v1/jobs/{job_id}/events", headers=cursor) as response:
                assert response.status_code in (200, 503), response.text
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if line and not line.startswith(":"):
                        name, _, value = line.partition(": ")
                        fields[name] = value
                    elif not line and "event" in fields:
                        frames.append((fields.get("id", ""), fields["event"]))
                        fields = {}
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # a refused or broken stream is asked again, as a browser's EventSource does
    return frames


def stream_order(frame_id: str) -> tuple[int, int]:
    ms, _, seq = frame_id.partition("-")
    return int(ms), int(seq or 0)


def test_a_master_killed_under_load_loses_nothing_and_every_waiter_ends(
    deployment: Deployment, tmp_path: Path
) -> None:
    api, redis_set = deployment.api, deployment.redis_set
    limited = deployment.key(jobs_per_minute=4)
    as_limited = {"Authorization": f"Bearer {limited}"}
    with Receiver([HANG]) as receiver:
        hooked = api.http.post("/v1/jobs", json={**IMAGE, "webhook": {"url": receiver.url}}).json()
        batch = held_batch(api, tmp_path, 3)
        long_wait = in_background(lambda: api.http.get(f"/v1/jobs/{batch[0]['id']}", params={"wait": 60}))
        stream = in_background(lambda: sse_frames(api, str(batch[1]["id"])))
        receiver.wait_for(1, timeout=60)  # the hooked job's delivery hangs at the receiver: in flight
        before = [api.http.post("/v1/jobs", json=IMAGE, headers=as_limited).status_code for _ in range(3)]
        master = redis_set.master_port()
        assert ask(master, "WAIT", "2", "5000") == 2  # what was accepted so far is on both replicas

        old = redis_set.kill_master()
        killed_at = time.monotonic()
        redis_set.wait_promoted(old, timeout=60)
        accepted = resubmit_until_accepted(api, timeout=60)
        accepted_after_s = time.monotonic() - killed_at
        # Within seconds of the first count: the key's count survived on the new master (its 4th job only).
        after = [api.http.post("/v1/jobs", json=IMAGE, headers=as_limited).status_code for _ in range(2)]
        assert before + after == [202, 202, 202, 202, 429]
        (tmp_path / "go").touch()  # the batch ends after the failover, its worker writing to the new master

        print(f"failover: accepted again {accepted_after_s:.1f} s after the kill")
        done = [api.finished(str(j["id"]), timeout=60) for j in [*batch, accepted]]
        assert [(j["status"], j["attempts"]) for j in done] == [("succeeded", 1)] * 4
        print(f"failover: batch done {time.monotonic() - killed_at:.1f} s after the kill")
        assert attempts_until(api, hooked["id"], "delivered", timeout=120)[-1]["event"] == "completed"
        sent = list(receiver.received)
    assert {r.headers["webhook-id"] for r in sent} == {f"msg_{hooked['id']}_completed"}  # one event
    assert [r.answered for r in sent] == [HANG, 200]  # in flight across the failover, then sent again

    waited = long_wait()
    assert waited.status_code == 200
    assert waited.json()["status"] == "succeeded"
    frames = stream()
    ids = [f[0] for f in frames if f[0]]
    assert ids == sorted(set(ids), key=stream_order)  # resumed from its cursor: no gap repeated, none twice
    assert [f[1] for f in frames][-2:] == ["status", "done"]

    redis_set.rejoin(old)
    redis_set.wait_replicas(2, timeout=60)
    print(f"failover: old master a replica again {time.monotonic() - killed_at:.1f} s after the kill")
    assert accepted_after_s < 30


def resubmit_until_accepted(api: Api, *, timeout: float) -> dict[str, Any]:
    """Submit until the API answers 202 (it answers 503 while there is no master); the job."""
    deadline = time.monotonic() + timeout
    while True:
        answer = api.http.post("/v1/jobs", json=IMAGE)
        if answer.status_code == 202:
            job: dict[str, Any] = answer.json()
            return job
        assert answer.status_code == 503, answer.text
        assert time.monotonic() < deadline, f"no job accepted within {timeout} s"
        time.sleep(0.1)
