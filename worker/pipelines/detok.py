"""Turning a growing list of token ids into text deltas, holding back what might start a stop string."""

from __future__ import annotations

from typing import Any

Windows = tuple[list[int], list[int]]


class TextStream:
    """One reply's text as tokens arrive: new text to stream, and where a stop string cut it.

    Each new token is decoded together with the tokens since the last printable piece, so a
    character split over several byte tokens, or a space merged into a word, comes out whole.
    Callers with many streams decode all their windows in one `batch_decode` (see `advance`).
    """

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

    def add(self, token_id: int) -> Windows:
        """Take a token; returns the two id windows whose texts `accept` needs."""
        self.ids.append(token_id)
        return self.ids[self.prefix : self.read], self.ids[self.prefix :]

    def accept(self, known: str, full: str) -> str:
        """Given the decoded windows, the text now safe to stream (may be empty)."""
        if self.stopped:
            return ""
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

    def push(self, token_id: int) -> str:
        """`add` then `accept`, decoding here: for a single stream."""
        known, full = self.add(token_id)
        return self.accept(*decode_all(self.tokenizer, [known, full]))

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


def decode_all(tokenizer: Any, windows: list[list[int]]) -> list[str]:
    """Every window decoded in one call (the Rust tokenizer does the loop)."""
    texts: list[str] = tokenizer.batch_decode(windows, skip_special_tokens=True)
    return texts
