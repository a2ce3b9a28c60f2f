"""Whether a chat can fit the model's context, told before a stream's status line is sent.

The worker counts a conversation's tokens with the model's tokenizer and refuses one that passes the
context, but a streamed answer has said 200 by then. The API reads what it can without importing
transformers: the context (config.json's max_position_embeddings) and the longest text any one token
stands for (tokenizer.json's vocabulary and added tokens, in UTF-8 bytes). A conversation of B bytes
is then at least B / longest tokens, a lower bound: what it refuses, the worker would refuse too.
A model the API cannot read (a hub id not on this machine) is left to the worker.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from api.openai.errors import InvalidRequestError
from shared.inputs import ChatInput, JobInput
from shared.settings import LOCAL_MODELS, Settings
from shared.vocabulary import JobType

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """A model's context in tokens, and the most UTF-8 bytes of text one of its tokens stands for."""

    tokens: int
    longest_token_bytes: int

    def fewest_tokens(self, chat: ChatInput) -> int:
        """A lower bound on the tokens of the conversation's prompt (every message's text)."""
        size = sum(len(m.content.encode("utf-8", "surrogatepass")) for m in chat.messages)
        return max(1, math.ceil(size / self.longest_token_bytes))


@cache
def context_of(model: str) -> Context | None:
    """The context of the model at this local path; None when its files cannot be read here."""
    folder = Path(model)
    try:
        config = json.loads((folder / "config.json").read_text())
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        tokens = int(config["max_position_embeddings"])
        texts = list(tokenizer["model"]["vocab"]) + [t["content"] for t in tokenizer.get("added_tokens", [])]
        longest = max(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("the chat model's context cannot be read at %s (%s): the worker checks it", model, exc)
        return None
    return Context(tokens, max(1, longest))


def check_fits(settings: Settings, chat: JobInput, *, param: str = "messages") -> None:
    """InvalidRequestError (400) when a chat's conversation and max_tokens surely pass the model's context.

    The model is the workers' (LLMB_CHAT_MODEL, else the local one under the data folder), read where
    the API runs: give the API the same LLMB_CHAT_MODEL for the check to happen.
    """
    model = settings.chat_model or str(settings.models_dir / LOCAL_MODELS[JobType.CHAT])
    context = context_of(model)
    if context is None or not isinstance(chat, ChatInput):
        return
    fewest = context.fewest_tokens(chat)
    if fewest + chat.max_tokens > context.tokens:
        raise InvalidRequestError(
            f"the conversation is at least {fewest} tokens; with max_tokens {chat.max_tokens} it passes "
            f"the model's context of {context.tokens} tokens",
            param=param,
            code="context_length_exceeded",
        )
