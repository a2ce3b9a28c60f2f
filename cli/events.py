"""A job's Server-Sent Events followed to `done`, reconnecting with Last-Event-ID when the stream drops."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from cli.client import ApiClient, ApiError
from cli.sse import ServerSentEvent, SseParser

DEFAULT_RETRY_S = 2.0
# Connections in a row that bring no line at all before we give up on the server.
MAX_FAILURES = 5


class EventsUnsupportedError(Exception):
    """The server has no events endpoint: it answered 404 for a job that exists (an older server)."""


def retriable(error: ApiError) -> bool:
    """True for failures a reconnect may cure: no answer, a dropped stream, a server error."""
    return error.code in ("timeout", "unreachable") or error.status >= 500 or error.status == 429


class JobEvents:
    """Iterates over one job's events until `done`, resuming after the last event id on each reconnect."""

    def __init__(
        self,
        client: ApiClient,
        job_id: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_failures: int = MAX_FAILURES,
    ) -> None:
        self.client = client
        self.job_id = job_id
        self.sleep = sleep
        self.max_failures = max_failures
        self.parser = SseParser()
        self.connected = False  # once the endpoint answered, a 404 means the job is gone
        self.failures = 0

    def __iter__(self) -> Iterator[ServerSentEvent]:
        while True:
            try:
                yield from self._connection()
                return
            except ApiError as exc:
                if exc.status == 404 and not self.connected:
                    raise EventsUnsupportedError(str(exc)) from exc
                if not retriable(exc):
                    raise
                self._back_off(exc)
            except StreamEndedError as exc:
                self._back_off(ApiError(str(exc), code="unreachable"))

    def _connection(self) -> Iterator[ServerSentEvent]:
        """The events of one connection; raises StreamEndedError if it closes before `done`."""
        self.parser.reset()
        with self.client.events(self.job_id, last_id=self.parser.last_id) as response:
            self.connected = True
            for line in response.iter_lines():
                self.failures = 0
                event = self.parser.feed(line)
                if event is None:
                    continue
                yield event
                if event.type == "done":
                    return
        raise StreamEndedError(f"the events of job {self.job_id} ended before the job did")

    def _back_off(self, error: ApiError) -> None:
        """Wait the server's retry delay before reconnecting, or give up after too many failures."""
        self.failures += 1
        if self.failures > self.max_failures:
            raise error
        retry_ms = self.parser.retry_ms
        self.sleep(DEFAULT_RETRY_S if retry_ms is None else retry_ms / 1000)


class StreamEndedError(Exception):
    """The server closed the events stream before sending `done`."""


def job_events(client: ApiClient, job_id: str) -> Iterator[ServerSentEvent]:
    """The job's events until `done`, across dropped connections."""
    return iter(JobEvents(client, job_id))
