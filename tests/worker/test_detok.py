from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from worker.pipelines.detok import TextStream

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from worker.tinymodels.__main__ import main as build

    assert build(["--out", str(REPO / "var" / "models"), "--only", "chat"]) == 0
    return AutoTokenizer.from_pretrained(REPO / "var" / "models" / "tiny-chat")


def stream(tokenizer, text: str, stops: list[str]) -> tuple[list[str], TextStream]:  # type: ignore[no-untyped-def]
    s = TextStream(tokenizer, stops)
    pieces = [s.push(t) for t in tokenizer.encode(text, add_special_tokens=False)]
    pieces.append(s.flush())
    return [p for p in pieces if p], s


def test_pieces_add_up_to_the_text_even_with_multibyte_characters(tokenizer) -> None:
    text = "Foxes run — naïve café, 狐狸 and 🦊 too."
    pieces, s = stream(tokenizer, text, [])
    assert "".join(pieces) == text
    assert all("\ufffd" not in p for p in pieces)
    assert not s.stopped


def test_a_stop_string_across_tokens_cuts_the_text_and_never_streams_it(tokenizer) -> None:
    pieces, s = stream(tokenizer, "The quick brown fox jumps over the lazy dog", ["fox jumps"])
    assert s.stopped
    assert "".join(pieces) == "The quick brown "
    assert s.text == "The quick brown "


def test_an_empty_reply_reports_no_progress() -> None:
    import torch

    from shared.inputs import ChatInput
    from worker.pipelines.detok import TextStream
    from worker.pipelines.watch import ChatWork, Reply, ReplyWatcher

    class Recorder:
        def __init__(self) -> None:
            self.progress_calls: list[tuple[int, int, int]] = []

        def progress(self, row: int, step: int, total: int) -> None:
            self.progress_calls.append((row, step, total))

        def token(self, row: int, text: str, *, count: int, total: int) -> None:
            raise AssertionError("an empty reply streams no token")

        def wanted(self, row: int) -> bool:
            return True

        def checkpoint(self) -> None:
            pass

    class Tokenizer:
        def batch_decode(self, windows: list[list[int]], skip_special_tokens: bool) -> list[str]:
            return ["" for _ in windows]

    steps = Recorder()
    work = ChatWork(ChatInput(messages=[{"role": "user", "content": "hi"}]), prompt=[5, 6])
    reply = Reply(0, work, TextStream(Tokenizer(), []))
    watcher = ReplyWatcher(steps, [reply], eos={2}, tokenizer=Tokenizer())
    done = watcher(torch.tensor([[5, 6, 2]]), None)
    assert done.tolist() == [True]
    assert (reply.finish, reply.tokens) == ("stop", [])
    assert steps.progress_calls == []  # not "0 of 0"
