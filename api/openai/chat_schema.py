"""The body of POST /v1/chat/completions, and the chat job input it becomes."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from api.openai.errors import InvalidRequestError
from api.openai.schemas import OpenAISchema

# How a message's text parts become its content (vLLM joins them the same way).
PART_SEPARATOR = "\n"


class TextPart(OpenAISchema):
    """One part of a message's content; text is the only kind a chat model here reads."""

    type: Literal["text"]
    text: str


class ChatMessage(OpenAISchema):
    """One turn: `developer` is taken as `system`, as OpenAI does for models without the role."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    @property
    def text(self) -> str:
        """The content as one text."""
        if isinstance(self.content, str):
            return self.content
        return PART_SEPARATOR.join(part.text for part in self.content)


class StreamOptions(OpenAISchema):
    """What a stream adds: the usage chunk before [DONE]."""

    NEUTRAL: ClassVar[dict[str, tuple[Any, ...]]] = {"include_obfuscation": (False,)}

    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ChatRequest(OpenAISchema):
    """Body of POST /v1/chat/completions: what a chat job takes, plus the fields tools send by habit."""

    NEUTRAL: ClassVar[dict[str, tuple[Any, ...]]] = {
        "n": (1,),
        "frequency_penalty": (0,),
        "presence_penalty": (0,),
        "logprobs": (False,),
        "top_logprobs": (0,),
        "logit_bias": ({},),
        "response_format": ({"type": "text"},),
        "tools": ([],),
        "tool_choice": ("none", "auto"),  # with no tools, both mean: answer in text
        "functions": ([],),
        "function_call": ("none", "auto"),
        "modalities": (["text"],),
        "audio": (),
        "prediction": (),
        "reasoning_effort": (),
        "verbosity": (),
        "web_search_options": (),
        "store": (False,),
        "service_tier": ("auto", "default"),
    }

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    metadata: dict[str, str] | None = None
    parallel_tool_calls: bool | None = None
    n: Any = None
    frequency_penalty: Any = None
    presence_penalty: Any = None
    logprobs: Any = None
    top_logprobs: Any = None
    logit_bias: Any = None
    response_format: Any = None
    tools: Any = None
    tool_choice: Any = None
    functions: Any = None
    function_call: Any = None
    modalities: Any = None
    audio: Any = None
    prediction: Any = None
    reasoning_effort: Any = None
    verbosity: Any = None
    web_search_options: Any = None
    store: Any = None
    service_tier: Any = None

    @property
    def tokens_field(self) -> str:
        """The name the client gave the reply's length: max_completion_tokens or max_tokens."""
        return "max_completion_tokens" if self.max_completion_tokens is not None else "max_tokens"

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with the usage chunk."""
        return bool(self.stream_options and self.stream_options.include_usage)

    def job_input(self) -> dict[str, Any]:
        """The chat job's input, before its own checks (roles, texts, caps)."""
        data: dict[str, Any] = {
            "messages": [
                {"role": "system" if m.role == "developer" else m.role, "content": m.text}
                for m in self.messages
            ]
        }
        length = self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens
        if self.max_tokens is not None and self.max_tokens != length:
            raise InvalidRequestError(
                "max_tokens and max_completion_tokens differ; send one of them", param="max_completion_tokens"
            )
        given: dict[str, Any] = {"max_tokens": length, "temperature": self.temperature, "top_p": self.top_p}
        given |= {"seed": self.seed, "stop": self.stop}
        data.update({k: v for k, v in given.items() if v is not None})
        return data
