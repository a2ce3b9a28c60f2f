"""A Server-Sent Events parser, line by line, as the WHATWG EventSource specification reads a stream."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shared import numbers


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its type, its data lines joined by newlines, and the last event id so far."""

    type: str
    data: str
    id: str | None = None


class SseParser:
    """Turns the lines of an event stream into events, keeping the last event id and retry delay."""

    def __init__(self) -> None:
        self.last_id: str | None = None  # what a reconnect sends as Last-Event-ID
        self.retry_ms: int | None = None  # the reconnection delay the server asked for
        self._id_buffer: str | None = None
        self._type = ""
        self._data: list[str] = []

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its line ending); return the event a blank line completes."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):  # a comment, e.g. the server's keep-alive
            return None
        name, _, value = line.partition(":")
        self._field(name, value.removeprefix(" "))
        return None

    def reset(self) -> None:
        """Forget a half-received event, as when the connection dropped; the last id is kept."""
        self._id_buffer = self.last_id
        self._type = ""
        self._data = []

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id" and "\0" not in value:
            self._id_buffer = value
        elif name == "retry" and (ms := numbers.integer(value)) is not None:
            self.retry_ms = ms
        # Other field names are ignored, as the specification says.

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_id = self._id_buffer
        data, kind = self._data, self._type
        self._data, self._type = [], ""
        if not data:
            return None
        return ServerSentEvent(type=kind or "message", data="\n".join(data), id=self.last_id)


def parse(lines: Iterable[str], parser: SseParser | None = None) -> Iterator[ServerSentEvent]:
    """The events in `lines`; an event the lines leave unfinished is not dispatched."""
    parser = parser or SseParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event
