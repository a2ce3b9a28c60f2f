"""Following a batch of chat jobs through the shared continuous-batching engine, each job on its own.

Each job is one request of the engine. Its tokens arrive as the manager's outputs (the whole
reply so far each step); the new ones go through the same `ReplyWatcher` as the static path, so
the text streamed, the stops, eos and max_tokens mean the same. A job stops inside the running
batch when its stop string is seen, or when `Steps` says it is no longer wanted (canceled, past
its deadline, handed back, client gone): its request is canceled and its place is free at once.
"""

from __future__ import annotations

import queue
from typing import Any

from worker.pipelines.base import JobStopped
from worker.pipelines.engine import ChatEngine, Delivery
from worker.pipelines.watch import Reply, ReplyWatcher

_IDLE_S = 0.05  # how often a run with no new tokens still checks its jobs (deadlines, cancels)


class EngineRun:
    """One run's requests in the engine: submit them, take their outputs, cancel what must stop."""

    def __init__(self, engine: ChatEngine, watcher: ReplyWatcher) -> None:
        self.engine = engine
        self.watcher = watcher
        self.sink: queue.Queue[Delivery] = queue.Queue()
        self.request_ids: dict[int, str] = {}
        self.errors: dict[int, str] = {}
        self.seen: dict[int, int] = {}  # row -> generated tokens already taken
        self.finished: set[int] = set()  # rows the engine itself ended (nothing to cancel)

    def follow(self, requests: list[dict[str, Any]]) -> None:
        """Submit one request per reply and take their outputs until every reply has ended."""
        replies = self.watcher.replies
        try:
            for reply, request in zip(replies, requests, strict=True):
                self.request_ids[reply.row] = self.engine.submit(
                    reply.work.prompt, self.sink, reply.row, **request
                )
            while any(r.finish is None and r.row not in self.errors for r in replies):
                self._take(self._next_deliveries())
                self.watcher.check()
                self._cancel_ended()
        except JobStopped:
            self._cancel_all()
            raise
        except BaseException:
            self._cancel_all()
            raise

    def _next_deliveries(self) -> list[Delivery]:
        try:
            got = [self.sink.get(timeout=_IDLE_S)]
        except queue.Empty:
            return []
        while True:
            try:
                got.append(self.sink.get_nowait())
            except queue.Empty:
                return got

    def _take(self, deliveries: list[Delivery]) -> None:
        """Feed the new tokens to the watcher, one token of each reply at a time, in order."""
        fresh: dict[int, list[int]] = {}
        for d in deliveries:
            if d.output is None or d.output.error:
                self.errors[d.row] = d.error or str(d.output.error)
                continue
            if d.output.is_finished():
                self.finished.add(d.row)
            tokens = list(d.output.generated_tokens)
            have = self.seen.get(d.row, 0) + len(fresh.get(d.row, []))
            if len(tokens) > have:
                fresh.setdefault(d.row, []).extend(tokens[have:])
        replies = self.watcher.replies
        depth = max((len(t) for t in fresh.values()), default=0)
        for i in range(depth):
            self.watcher.advance([(replies[row], t[i]) for row, t in fresh.items() if i < len(t)])
        for row, t in fresh.items():
            self.seen[row] = self.seen.get(row, 0) + len(t)

    def _cancel_ended(self) -> None:
        """Replies that ended on our side (stop string, not wanted) leave the engine's batch now."""
        for reply in self.watcher.replies:
            request_id = self.request_ids.get(reply.row)
            if request_id is not None and (reply.finish is not None or reply.row in self.errors):
                del self.request_ids[reply.row]
                if reply.row not in self.finished:
                    self.engine.cancel(request_id)

    def _cancel_all(self) -> None:
        for request_id in self.request_ids.values():
            self.engine.cancel(request_id)
        self.request_ids.clear()


def outcome(reply: Reply, errors: dict[int, str]) -> Exception | None:
    """The exception that failed this reply's job in the engine, or None when it ended normally."""
    error = errors.get(reply.row)
    return (
        RuntimeError(f"the chat engine failed this job: {error}") if error and reply.finish is None else None
    )
