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
