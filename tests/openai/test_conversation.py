"""Issue 18 item 15: a conversation built from the service's own replies goes on, whatever they hold."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.openai.conftest import CHAT_MODEL

# Characters a model can emit that a client may not type: form feed (the tiny model's favourite), ESC.
REPLY = "page one\fpage two \x1b[1mbold\x1b[0m\x07"


def _reply(client: openai.OpenAI, messages: list[Any], *, stream: bool) -> str:
    if not stream:
        done = client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=64)
        return done.choices[0].message.content or ""
    chunks = client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=64, stream=True)
    with chunks:
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("stream", [False, True])
def test_a_reply_holding_control_characters_can_be_sent_back(client: openai.OpenAI, stream: bool) -> None:
    escaped = REPLY.encode("unicode_escape").decode("ascii")
    conversation: list[Any] = [{"role": "user", "content": f"say-escaped:{escaped}"}]
    first = _reply(client, conversation, stream=stream)
    assert first == REPLY
    conversation += [{"role": "assistant", "content": first}, {"role": "user", "content": "say:again"}]
    second = _reply(client, conversation, stream=stream)  # refused with 400 before: U+000C
    assert second == "again"
    conversation += [{"role": "assistant", "content": second}, {"role": "user", "content": "hi"}]
    assert isinstance(_reply(client, conversation, stream=stream), str)  # the model's own words


def test_a_user_turn_with_a_control_character_is_still_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "a\fb"}])
    assert refused.value.body["param"] == "messages[0].content"  # type: ignore[index]
