"""The failover scenario's mixed load: submitters that retry each job under one Idempotency-Key, and readers.

A submission is answered 202 (or 200 replayed) or tried again, with the same key, until it is; so
every job the API accepted is known by the key it was asked under, and a failover that loses one
shows up as a key whose job is gone (or a retry that made a second job for the same key).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

BODY = {"type": "image", "input": {"prompt": "pace:30", "steps": 3, "width": 64, "height": 64}}


@dataclass
class Accepted:
    """One job the API accepted: under which key, when its request was sent and answered (wall clock)."""

    key: str
    job_id: str
    sent: float
    at: float
    replayed: bool


@dataclass
class Tally:
    """What the load saw; safe to add to from several threads."""

    accepted: list[Accepted] = field(default_factory=list)
    refused: int = 0  # 503s, 429s and broken connections, each tried again under the same key
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Accepted) -> None:
        """Count one accepted submission."""
        with self.lock:
            self.accepted.append(item)

    def sent_after(self, wall: float) -> list[Accepted]:
        """The accepted submissions whose request was sent after `wall`, first answered first."""
        with self.lock:
            return sorted((a for a in self.accepted if a.sent > wall), key=lambda a: a.at)


class Load:
    """`submitters` threads submitting jobs and `readers` threads long-waiting on accepted ones."""

    def __init__(self, base: str, *, submitters: int = 3, readers: int = 2) -> None:
        self.base = base
        self.tally = Tally()
        self.stopping = threading.Event()
        work = [self._submit] * submitters + [self._read] * readers
        self.threads = [threading.Thread(target=w, daemon=True) for w in work]

    def start(self) -> None:
        """Start every thread."""
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Stop submitting and reading; a submission under way is still answered (or given up)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _submit(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stopping.is_set():
                key = uuid.uuid4().hex
                while not self.stopping.is_set():
                    sent = time.time()
                    answer = _post(http, key)
                    if answer is not None and answer.status_code in (200, 202):
                        replayed = answer.headers.get("Idempotent-Replayed") == "true"
                        self.tally.add(Accepted(key, answer.json()["id"], sent, time.time(), replayed))
                        break
                    with self.tally.lock:
                        self.tally.refused += 1
                    time.sleep(0.05)
                time.sleep(0.02)

    def _read(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stopping.is_set():
                with self.tally.lock:
                    recent = [a.job_id for a in self.tally.accepted[-20:]]
                if not recent:
                    time.sleep(0.1)
                    continue
                try:
                    http.get(f"/v1/jobs/{random.choice(recent)}", params={"wait": 2})
                except httpx.TransportError:
                    time.sleep(0.1)


def _post(http: httpx.Client, key: str) -> httpx.Response | None:
    try:
        return http.post("/v1/jobs", json=BODY, headers={"Idempotency-Key": key})
    except httpx.TransportError:
        return None
