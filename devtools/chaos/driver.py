"""The load: a thread that submits jobs through the HTTP API at a steady rate, in bursts, and cancels some."""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass, field

import httpx

from devtools.chaos.mix import BURST, BUSY, CANCEL_QUEUED, CANCEL_RUNNING, EMBED, STEADY, JobSpec, Mix

JSON = {"Content-Type": "application/json"}
WATCH_EVERY_S = 0.25  # how often the running-cancel targets are looked at


@dataclass(frozen=True)
class Submitted:
    """An accepted job (the API answered 202): its id, why it was sent, when (epoch seconds)."""

    job_id: str
    tag: str
    at: float


@dataclass(frozen=True)
class CancelTry:
    """One POST .../cancel: the job, when, the HTTP status (0: no answer) and the job status answered."""

    job_id: str
    at: float
    code: int
    status: str


@dataclass
class Tally:
    """What the load did: the jobs accepted, the submissions refused by reason, every cancel sent."""

    accepted: list[Submitted] = field(default_factory=list)
    refused: collections.Counter[str] = field(default_factory=collections.Counter)
    cancels: list[CancelTry] = field(default_factory=list)


class Driver:
    """Submits the mix at `rate` jobs/s (exponential gaps) from its own thread, with `headers` (its key)."""

    def __init__(self, base_url: str, mix: Mix, headers: dict[str, str]) -> None:
        self.mix = mix
        self.http = httpx.Client(base_url=base_url, timeout=10, headers=headers)
        self.probes = httpx.Client(base_url=base_url, timeout=10, headers=headers)  # the main thread's own
        self.tally = Tally()
        self.spare: set[str] = set()  # jobs faults must not pick: those the load cancels, and purposeful ones
        self._watch: list[Submitted] = []
        self._bursts: queue.Queue[tuple[int, bool]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-load", daemon=True)
        self._steady = self._burst = 0

    @property
    def accepted(self) -> int:
        """How many jobs were accepted so far."""
        return len(self.tally.accepted)

    def start(self) -> None:
        """Start submitting."""
        self._thread.start()

    def burst(self, n: int, *, busy: bool = False) -> None:
        """Submit `n` burst jobs (or `busy` ones, that outlast a fault) as fast as the API takes them."""
        self._bursts.put((n, busy))

    def stop(self) -> Tally:
        """Stop submitting; what was done."""
        if not self._stop.is_set():
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(timeout=60)
            self.http.close()
            self.probes.close()
        return self.tally

    def probe(self, spec: JobSpec) -> str | None:
        """Submit one job from the main thread (the API may still be reconnecting): its id once accepted."""
        try:
            answer = self.probes.post("/v1/jobs", json=spec.body, headers=JSON)
        except httpx.HTTPError:
            return None
        if answer.status_code != 202:
            return None
        job = Submitted(str(answer.json()["id"]), spec.tag, time.time())
        self.tally.accepted.append(job)
        return job.job_id

    def _loop(self) -> None:
        """Bursts first, then the steady load at its rate, then the running-cancel targets."""
        next_at = watched_at = time.monotonic()
        while not self._stop.is_set():
            while not self._bursts.empty():
                n, busy = self._bursts.get()
                for _ in range(n):
                    self._submit(self.mix.busy() if busy else self.mix.burst(self._burst))
                    self._burst += not busy
            now = time.monotonic()
            if now >= next_at:
                self._submit(self.mix.steady(self._steady))
                self._steady += 1
                next_at += self.mix.rng.expovariate(self.mix.plan.rate)
            if now >= watched_at:
                self._cancel_running()
                watched_at = now + WATCH_EVERY_S
            self._stop.wait(max(0.0, min(next_at, watched_at) - time.monotonic()))

    def _submit(self, spec: JobSpec) -> None:
        """POST one job; note it when accepted (and cancel it at once if it is to be canceled waiting)."""
        try:
            answer = self.http.post("/v1/jobs", json=spec.body, headers=JSON)
        except httpx.HTTPError as exc:
            self.tally.refused[type(exc).__name__] += 1
            return
        if answer.status_code != 202:
            self.tally.refused[str(answer.status_code)] += 1
            return
        job = Submitted(str(answer.json()["id"]), spec.tag, time.time())
        self.tally.accepted.append(job)
        if spec.tag not in (STEADY, BURST, EMBED, BUSY):
            self.spare.add(job.job_id)
        if spec.tag == CANCEL_QUEUED:
            self._cancel(job.job_id)
        elif spec.tag == CANCEL_RUNNING:
            self._watch.append(job)

    def cancel_now(self, job_id: str) -> None:
        """Cancel a job from the main thread (a fault's own cancel), recorded with the load's."""
        self.spare.add(job_id)
        self._cancel(job_id, self.probes)

    def _cancel_running(self) -> None:
        """Cancel each target seen running past its first step; forget those that finished first."""
        for job in list(self._watch):
            try:
                seen = self.http.get(f"/v1/jobs/{job.job_id}").json()
            except (httpx.HTTPError, ValueError):
                continue
            if seen.get("status") in ("succeeded", "failed", "canceled"):
                self._watch.remove(job)
            elif seen.get("status") == "running" and (seen.get("progress") or {}).get("step", 0) >= 1:
                self._cancel(job.job_id)
                self._watch.remove(job)

    def _cancel(self, job_id: str, http: httpx.Client | None = None) -> None:
        """POST .../cancel and note the answer."""
        at = time.time()
        try:
            answer = (http or self.http).post(f"/v1/jobs/{job_id}/cancel")
        except httpx.HTTPError:
            self.tally.cancels.append(CancelTry(job_id, at, 0, ""))
            return
        status = answer.json().get("status", "") if answer.status_code == 200 else ""
        self.tally.cancels.append(CancelTry(job_id, at, answer.status_code, str(status)))
