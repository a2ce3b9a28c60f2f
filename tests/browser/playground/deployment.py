"""The stack the playground's tests drive: Redis, the API twice (auth off, auth on), one worker and the
batch runner.

Both APIs share Redis and the worker. The worker serves every queue one job at a time, with the real
small image model, the scripted chat pipeline (real replies, or endless "tick" tokens for a message
starting with "endless", until its job is stopped) and the real MiniLM embeddings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

ADMIN_KEY = "playground-admin-key-0123456789"
TERMINAL = {"succeeded", "failed", "canceled"}
ENDLESS = {"messages": [{"role": "user", "content": "endless"}], "max_tokens": 2048}


@dataclass
class Deployment:
    """The two API addresses and a client for each (the secure one holds the admin key)."""

    open_url: str
    secure_url: str
    http: httpx.Client
    admin: httpx.Client

    def submit(self, job_type: str, input_: dict[str, Any], *, wait: int = 0) -> dict[str, Any]:
        """A job submitted to the open API (the page's tenant there, `anonymous`)."""
        headers = {"Prefer": f"wait={wait}"} if wait else {}
        response = self.http.post("/v1/jobs", json={"type": job_type, "input": input_}, headers=headers)
        assert response.status_code in (200, 202), response.text
        job: dict[str, Any] = response.json()
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        """The job as the open API shows it."""
        response = self.http.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def until(self, job_id: str, *statuses: str, timeout: float = 120) -> dict[str, Any]:
        """The job once its status is one of `statuses`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} never became {statuses}; last seen {job}")

    def hold_worker(self) -> str:
        """An endless chat job, running: the worker takes no other job until it is canceled."""
        job = self.submit("chat", ENDLESS)
        self.until(job["id"], "running")
        return str(job["id"])

    def cancel_active(self) -> None:
        """Cancel the open API tenant's queued and running jobs, so the next test finds the worker free."""
        for job in self.http.get("/v1/jobs", params={"limit": 50}).json()["jobs"]:
            if job["status"] not in TERMINAL:
                self.http.post(f"/v1/jobs/{job['id']}/cancel")

    def new_key(self, name: str, **fields: Any) -> str:
        """A new normal key on the secure API (its own tenant, default scopes)."""
        response = self.admin.post("/v1/keys", json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return str(response.json()["key"])
