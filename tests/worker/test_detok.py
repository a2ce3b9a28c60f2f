from __future__ import annotations

import random
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from worker.pipelines.detok import MAX_HELD, TextStream

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


@pytest.mark.parametrize("seed", range(40))
def test_any_token_sequence_streams_exactly_its_decode_with_a_bounded_window(tokenizer, seed: int) -> None:
    # Random ids reach byte tokens that never make a character and special tokens that make no text:
    # what a random-weight model writes. The streamed pieces must add up to the tokenizer's own decode.
    rng = random.Random(seed)
    ids = [rng.randrange(len(tokenizer)) for _ in range(48)]
    s = TextStream(tokenizer, [])
    pieces = []
    for token_id in ids:
        pieces.append(s.push(token_id))
        # The decoded window never grows without bound: what is held, and the context before it.
        assert len(s.ids) - s.read <= MAX_HELD
        assert s.read - s.prefix <= MAX_HELD + 1
    pieces.append(s.flush())
    whole = tokenizer.decode(ids, skip_special_tokens=True)
    assert "".join(pieces) == s.text == whole


def test_byte_runs_stream_exactly_their_decode_even_when_a_character_is_forced_out(tokenizer) -> None:
    # Mostly single-byte tokens: lead bytes without their continuations, characters completed only
    # after MAX_HELD tokens, stray continuations. A half character held past its bound must not be
    # streamed as U+FFFD when later bytes complete it (before the fix, 89 of 2,000 such replies, the
    # first at seed 15, streamed a U+FFFD where the whole decode has a character).
    single_bytes = sorted(i for t, i in tokenizer.get_vocab().items() if len(t) == 1)
    assert len(single_bytes) == 256  # byte-level BPE: one token per byte
    for seed in range(300):
        rng = random.Random(seed)
        ids = [
            rng.choice(single_bytes) if rng.random() < 0.7 else rng.randrange(len(tokenizer))
            for _ in range(48)
        ]
        s = TextStream(tokenizer, [])
        pieces = []
        for token_id in ids:
            pieces.append(s.push(token_id))
            assert len(s.ids) - s.prefix <= 2 * MAX_HELD  # what is decoded each step stays small
        pieces.append(s.flush())
        assert "".join(pieces) == s.text == tokenizer.decode(ids, skip_special_tokens=True), seed


def test_a_half_character_waits_for_its_other_bytes_only_a_few_tokens(tokenizer) -> None:
    fox = tokenizer.encode("🦊", add_special_tokens=False)  # several byte tokens for one character
    assert len(fox) > 1
    s = TextStream(tokenizer, [])
    assert [s.push(t) for t in fox[:-1]] == [""] * (len(fox) - 1)  # no half character is streamed
    assert s.push(fox[-1]) == "🦊"


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
