"""Turning a growing list of token ids into text deltas, holding back what might start a stop string.

Incremental detokenization as Hugging Face's streamers and vLLM do it: each step decodes the tokens
since the last printable piece twice, with and without the newest, and streams the difference.
What is held back is bounded: a piece ending in U+FFFD (half a multi-byte character) waits for at
most MAX_HELD more tokens (a UTF-8 character spans at most 4 bytes), and tokens that add no text at
all (special tokens) never widen the window. At the end the reply is the decode of all its ids (bad
bytes as U+FFFD, as the tokenizer's own decode gives them), cut at the first stop string.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

Windows = tuple[list[int], list[int]]
MAX_HELD = 4  # tokens a half character may wait for the rest of it
REPLACEMENT = "\ufffd"


class TextStream:
    """One reply's text as tokens arrive: new text to stream, and where a stop string cut it.

    Callers with many streams decode all their windows in one `batch_decode` (see `add`/`accept`).
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
        half_character = full.endswith(REPLACEMENT) and len(self.ids) - self.read < MAX_HELD
        if half_character:
            return ""  # wait for the rest of the character (a few tokens at most)
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

    def finish(self, whole: str) -> str:
        """The rest of the reply, given the decode of all its ids; `text` becomes that reply, stop-cut."""
        streamed = self.text[: self.sent]
        if not self.stopped:
            cut = next((p for p in sorted(whole.find(s) for s in self.stops) if p >= 0), None)
            text = whole if cut is None else whole[:cut]
            self.stopped = cut is not None
            if text.startswith(streamed):
                self.text = text
            else:  # never seen: the pieces already streamed stay the reply's beginning
                log.warning("the streamed text and the decoded reply differ; keeping what was streamed")
        return self._send(len(self.text))

    def flush(self) -> str:
        """The rest of the reply, decoding all its ids here: for a single stream."""
        return self.finish(decode_all(self.tokenizer, [self.ids])[0])

    def _find_stop(self, start: int | None = None) -> int | None:
        window_start = max(0, self.sent - self.hold - 1) if start is None else start
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
