from __future__ import annotations

import json
import threading
import time

from flask.testing import FlaskClient

from api.services import Services
from shared.redis_conn import connect
from shared.store import Leases
from tests.fixtures.jobs import work_on

IMAGE = '{"type":"image","input":{"prompt":"a red fox","width":64,"height":64,"steps":3}}'


def parse(stream: str) -> list[dict[str, str]]:
    frames = []
    for block in stream.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
        )
        if "event" in fields:
            frames.append(fields)
    return frames


def run_job(svc: Services, job_id: str, *, delay: float = 0.0) -> None:
    """Do what a worker does: start, report three steps, succeed."""
    time.sleep(delay)
    client = connect(svc.settings.redis_url)
    try:
        work_on(svc.store, Leases(client, lease_ttl_s=30), job_id, result={"seed": 1})
    finally:
        client.close()


def test_stream_follows_a_job_live_to_done(client: FlaskClient) -> None:
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    worker = threading.Thread(
        target=run_job, args=(client.application.extensions["llmb"], job["id"]), kwargs={"delay": 0.3}
    )
    worker.start()
    response = client.get(f"/v1/jobs/{job['id']}/events")
    assert response.mimetype == "text/event-stream"
    frames = parse(response.get_data(as_text=True))
    worker.join()
    kinds = [
        (f["event"], json.loads(f["data"]).get("status") or json.loads(f["data"]).get("step")) for f in frames
    ]
    assert kinds[:6] == [
        ("status", "queued"),
        ("status", "running"),
        ("progress", 1),
        ("progress", 2),
        ("progress", 3),
        ("status", "succeeded"),
    ]
    done = json.loads(frames[-1]["data"])
    assert frames[-1]["event"] == "done"
    assert (done["id"], done["status"], done["result"]) == (job["id"], "succeeded", {"seed": 1})


def test_stream_resumes_after_last_event_id(client: FlaskClient) -> None:
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    run_job(client.application.extensions["llmb"], job["id"])
    everything = parse(client.get(f"/v1/jobs/{job['id']}/events").get_data(as_text=True))
    resumed = parse(
        client.get(f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": everything[2]["id"]}).get_data(
            as_text=True
        )
    )
    assert [f.get("id") for f in resumed] == [f.get("id") for f in everything[3:]]
    assert resumed[-1]["event"] == "done"
    after_end = parse(
        client.get(f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": everything[-2]["id"]}).get_data(
            as_text=True
        )
    )
    assert [f["event"] for f in after_end] == ["done"]


def test_stream_of_unknown_job_or_bad_id_is_a_problem(client: FlaskClient) -> None:
    assert client.get("/v1/jobs/nope/events").status_code == 404
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    for cursor in ("yesterday", "9999999999999-0", "99999999999999999999-0", "1-0\n"):
        bad = client.get(f"/v1/jobs/{job['id']}/events", query_string={"after": cursor})
        assert bad.status_code == 404, (
            cursor
        )  # refused before the stream starts, not a stream that never ends
        assert bad.content_type == "application/problem+json"
        assert "send no Last-Event-ID" in bad.get_json()["detail"]
    header = client.get(f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": "9999999999999-0"})
    assert header.status_code == 404


def test_a_cursor_of_another_job_is_refused_and_one_of_this_job_resumes(client: FlaskClient) -> None:
    first = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    second = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    run_job(client.application.extensions["llmb"], first["id"])
    frames = parse(client.get(f"/v1/jobs/{first['id']}/events").get_data(as_text=True))
    foreign = client.get(f"/v1/jobs/{second['id']}/events", headers={"Last-Event-ID": frames[1]["id"]})
    assert foreign.status_code == 404
    resumed = client.get(f"/v1/jobs/{first['id']}/events", headers={"Last-Event-ID": frames[1]["id"]})
    assert [f["event"] for f in parse(resumed.get_data(as_text=True))][-1] == "done"
