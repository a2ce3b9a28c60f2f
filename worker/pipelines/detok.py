"""Turning a growing list of token ids into text deltas, holding back what might start a stop string.

Incremental detokenization as Hugging Face's streamers and vLLM do it: each step decodes the tokens
since the last printable piece twice, with and without the newest, and streams the difference.
What is held back is bounded: a piece ending in U+FFFD (half a multi-byte character) waits for at
most MAX_HELD more tokens (a UTF-8 character spans at most 4 bytes). Past that, the bytes are not
all going to make characters: the window is split at the latest of its last few token boundaries
that is also a character boundary (decoding the two sides apart gives what decoding them together
does), and what comes before it streams. Where no such boundary is found (tokens that each end one
character and begin the next), everything but the last U+FFFD streams and the window stays open: a
lossy UTF-8 decode, as byte-level BPE tokenizers do it, turns an unfinished character at the end
into a single U+FFFD and never changes what it decoded before it. So the streamed pieces always add
up to the decode of all the reply's ids (bad bytes as U+FFFD, as the tokenizer's own decode gives
them), which is the reply, cut at the first stop string.
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
        self.pending = 0  # characters of the open window's text already in `text` (see `_forced`)
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
        if not full.endswith(REPLACEMENT):
            self._take(full[len(known) :], len(self.ids))
        elif len(self.ids) - self.read < MAX_HELD:
            return ""  # wait for the rest of the character (a few tokens at most)
        else:
            self._forced(known, full)
        cut = self._find_stop()
        if cut is not None:
            self.text = self.text[:cut]
            self.stopped = True
            return self._send(len(self.text))
        return self._send(len(self.text) - self.hold)

    def _take(self, new: str, read: int) -> None:
        """Add the window's new text (less what already streamed of it) and close the window at `read`."""
        self.text += new[self.pending :]
        self.pending = 0
        self.prefix, self.read = self.read, read

    def _forced(self, known: str, full: str) -> None:
        """A window still ending in U+FFFD after MAX_HELD tokens: stream what is final of it."""
        for end in range(len(self.ids) - 1, max(self.read, len(self.ids) - MAX_HELD), -1):
            head, tail = decode_all(self.tokenizer, [self.ids[self.prefix : end], self.ids[end:]])
            if tail and head + tail == full and len(head) >= len(known) + self.pending:
                self._take(head[len(known) :], end)
                return
        final = full[len(known) : -1]  # all but the last U+FFFD, which may be half a character
        if len(final) > self.pending:
            self.text += final[self.pending :]
            self.pending = len(final)

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
