"""Issue 18 item 13: a chat that passes the model's context is a BadRequestError, streamed or not."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.openai.conftest import CHAT_MODEL

HELLO = [{"role": "user", "content": "Tell me about foxes."}]
# 30,000 bytes are at least 30,000 / 19 tokens whatever the tiny tokenizer does (its longest token
# stands for 19 bytes): with 1,000 more to write it cannot fit a context of 2,048.
LONG = [{"role": "user", "content": "fox " * 7_500}]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(
    ("messages", "max_tokens"), [(HELLO, 2048), (LONG, 1000)], ids=["max_tokens", "long"]
)
def test_a_chat_past_the_context_is_a_bad_request_both_ways(
    client: openai.OpenAI, messages: list[Any], max_tokens: int, stream: bool
) -> None:
    # Before, the stream began with 200 and ended with an error event, which the SDK raises as APIError
    # while iterating; now create() itself raises, as it does for the whole answer.
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, max_tokens=max_tokens, stream=stream
        )
    assert refused.value.status_code == 400
    assert "context of 2048 tokens" in refused.value.message
    assert refused.value.body["param"] == "messages"  # type: ignore[index]


def test_a_chat_that_fits_still_streams(client: openai.OpenAI) -> None:
    chunks = client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=8, stream=True)
    with chunks:
        assert [c for c in chunks if c.choices and c.choices[0].finish_reason]
