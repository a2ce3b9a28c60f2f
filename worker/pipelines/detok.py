"""Turning a growing list of token ids into text deltas, holding back what might start a stop string."""

from __future__ import annotations

from typing import Any


class TextStream:
    """One reply's text as tokens arrive: new text to stream, and where a stop string cut it."""

    def __init__(self, tokenizer: Any, stops: list[str]) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.ids: list[int] = []
        self.prefix = 0  # decoding from here gives the context the next piece needs
        self.read = 0  # tokens up to here are already in `text`
        self.text = ""
        self.sent = 0
        self.stopped = False

    def push(self, token_id: int) -> str:
        """Add a token; returns the text now safe to stream (may be empty)."""
        self.ids.append(token_id)
        known = self._decode(self.ids[self.prefix : self.read])
        full = self._decode(self.ids[self.prefix :])
        if len(full) <= len(known) or full.endswith("\ufffd"):
            return ""  # nothing printable yet, or half a multi-byte character: wait for more
        self.text += full[len(known) :]
        self.prefix, self.read = self.read, len(self.ids)
        cut = self._find_stop()
        if cut is not None:
            self.text = self.text[:cut]
            self.stopped = True
            return self._send(len(self.text))
        return self._send(len(self.text) - self.hold)

    def flush(self) -> str:
        """The rest of the text, once the reply is over."""
        return self._send(len(self.text))

    def _find_stop(self) -> int | None:
        window_start = max(0, self.sent - self.hold - 1)
        found = [p for s in self.stops if (p := self.text.find(s, window_start)) >= 0]
        return min(found) if found else None

    def _send(self, end: int) -> str:
        if end <= self.sent:
            return ""
        delta = self.text[self.sent : end]
        self.sent = end
        return delta

    def _decode(self, ids: list[int]) -> str:
        text: str = self.tokenizer.decode(ids, skip_special_tokens=True)
        return text
