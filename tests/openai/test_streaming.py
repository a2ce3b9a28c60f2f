"""Streamed chat replies: whole characters in every chunk, and a client that leaves cancels its job alone."""

from __future__ import annotations

import re
import time

import httpx
import openai
import pytest

from tests.openai.conftest import CHAT_MODEL, Deployment, Native

pytestmark = pytest.mark.slow

# The tiny model's byte-level tokenizer encodes each of these characters as 2 to 4 byte tokens.
MULTIBYTE = "naïve café — 狐狸 and 🦊 too, ½ € ✓."


def streamed(client: openai.OpenAI, **asked: object) -> list[str]:
    """The content of every chunk of a streamed reply."""
    with client.chat.completions.create(model=CHAT_MODEL, stream=True, **asked) as stream:  # type: ignore[call-overload]
        return [c.choices[0].delta.content or "" for c in stream if c.choices]


def test_characters_split_across_tokens_are_never_split_across_chunks(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": f"say:{MULTIBYTE}"}]
    whole = client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=200)  # type: ignore[arg-type]
    assert whole.choices[0].message.content == MULTIBYTE
    assert whole.usage is not None
    assert whole.usage.completion_tokens > len(MULTIBYTE)  # characters took several tokens each
    pieces = streamed(client, messages=messages, max_tokens=200)
    assert "".join(pieces) == MULTIBYTE
    assert len([p for p in pieces if p]) > 5
    for piece in pieces:
        piece.encode("utf-8")  # no lone surrogate: each chunk is valid UTF-8 on its own
        assert "\ufffd" not in piece


def test_the_raw_stream_is_utf8_line_by_line(deployment: Deployment, key: str) -> None:
    body = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": f"say:{MULTIBYTE}"}],
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=deployment.base, headers=headers, timeout=120) as http,
        http.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["X-Job-Id"]
        raw = b"".join(response.iter_raw())
    frames = [f for f in raw.split(b"\n\n") if f]
    for frame in frames:
        frame.decode("utf-8")  # each event, on its own, is whole UTF-8
    assert frames[-1] == b"data: [DONE]"


# Sampled replies of the tiny model; the last is one whose streamed text once differed from the decode
# of all its ids (the worker then keeps what it streamed): the stream must add up to the reply either way.
SAMPLED = [
    {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 48, "temperature": 1.0, "seed": seed}
    for seed in (1, 2, 3)
] + [
    {
        "messages": [
            {"role": "user", "content": "Tell me a story about a dragon who was afraid of the dark."}
        ],
        "max_tokens": 64,
        "temperature": 0.8,
        "top_p": 0.95,
        "seed": 32,
    }
]


@pytest.mark.parametrize("asked", SAMPLED)
def test_a_sampled_reply_streams_exactly_as_it_is_answered_for_the_same_seed(
    client: openai.OpenAI, asked: dict[str, object]
) -> None:
    # The tiny model's random weights write byte tokens that often make no character at all (U+FFFD
    # in the reply, as the tokenizer decodes them): the stream must still add up to the same text.
    whole = client.chat.completions.create(model=CHAT_MODEL, **asked)  # type: ignore[call-overload]
    assert "".join(streamed(client, **asked)) == whole.choices[0].message.content


def test_a_client_that_leaves_cancels_its_job_and_the_batch_goes_on(
    client: openai.OpenAI, native: Native, deployment: Deployment
) -> None:
    blocker = native.submit(
        "chat", {"messages": [{"role": "user", "content": "repeat:wait "}], "max_tokens": 2000}
    )
    native.decoding(blocker)
    mate = native.submit(
        "chat", {"messages": [{"role": "user", "content": "repeat:tock "}], "max_tokens": 100}
    )
    endless = [{"role": "user", "content": "repeat:tick "}]
    raw = client.chat.completions.with_streaming_response.create(
        model=CHAT_MODEL,
        messages=endless,
        max_tokens=2000,
        stream=True,  # type: ignore[arg-type]
    )
    with raw as response:
        job_id = response.headers["X-Job-Id"]
        native.cancel(blocker)  # the two waiting jobs now start together, as one batch
        contents = 0
        for chunk in response.parse():
            if chunk.choices and chunk.choices[0].delta.content:
                contents += 1
            if contents == 5:
                break
        native.until(mate, lambda j: j["status"] == "running")
    left_at = time.time()  # the client closed its connection here
    gone = native.finished(job_id, timeout=30)
    assert gone["status"] == "canceled"
    assert gone["result"] is None
    canceled_at = iso_seconds(gone["finished_at"])
    assert canceled_at - left_at < 2.0
    done = native.finished(mate)
    assert done["status"] == "succeeded"
    assert done["result"]["usage"]["completion_tokens"] == 100  # the batch went on to its end
    assert iso_seconds(done["finished_at"]) > canceled_at
    log = deployment.worker.log()
    assert re.search(rf"job ({job_id}|{mate}): batched with 1 more", log)
    assert f"job {job_id}: stopped (canceled)" in log
    assert f"job {job_id}: canceled, its stream ended early" in deployment.api.log()


def iso_seconds(stamp: str) -> float:
    """An RFC 3339 UTC time as epoch seconds."""
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
