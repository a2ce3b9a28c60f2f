"""The audit line: one per request, except probes and scrapes that succeed."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}}


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "api.requests"]


def test_jobs_and_failures_are_logged_but_successful_probes_are_not(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.requests")
    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 200
    job = client.post("/v1/jobs", json=IMAGE)
    assert job.status_code == 202
    assert client.get("/health?x=1", headers={"Host": "evil.example"}).status_code == 400
    lines = audit_lines(caplog)
    assert lines[0].startswith(f"POST /v1/jobs 202 key=anonymous tenant=anonymous job={job.json['id']}")
    assert lines[1].startswith("GET /health 400 ")
    assert len(lines) == 2, lines
