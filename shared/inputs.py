"""Wire schemas of job inputs; each field carries its rules, caps included (values in `Limits`)."""

from __future__ import annotations

import re
from functools import cache
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from shared.caps import Cap, limits_of
from shared.errors import InputError
from shared.messages import validation_errors
from shared.settings import Limits
from shared.vocabulary import JobType


class InputSchema(BaseModel):
    """A strict wire schema: "512" is not a width and true is not a step count; the client is told."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _integral_floats(cls, value: Any, info: ValidationInfo) -> Any:
        # JSON has one number type: 20.0 is an integer to JSON Schema, so it is one here too.
        if isinstance(value, float) and value.is_integer() and info.field_name in _int_fields(cls):
            return int(value)
        return value


@cache
def _int_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, field in model.model_fields.items() if _is_int(field.annotation))


def _is_int(annotation: Any) -> bool:
    # int, Annotated[int, ...], and either of those or None
    if get_origin(annotation) is Annotated:
        return _is_int(get_args(annotation)[0])
    if annotation is int:
        return True
    return get_origin(annotation) in (Union, UnionType) and any(_is_int(a) for a in get_args(annotation))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# The same rule for JSON Schema readers (ECMA regex); a lone surrogate cannot be valid UTF-8 anyway.
_CLEAN_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$"


class CleanText:
    """A text check: no NUL or other C0 control (tab, newline and carriage return pass), no lone surrogate."""

    @staticmethod
    def check(value: str) -> str:
        """`value`, or ValueError naming the character it refuses."""
        bad = _CONTROL.search(value)
        if bad:
            raise ValueError(f"must not contain the control character U+{ord(bad.group()):04X}")
        if _SURROGATE.search(value):
            raise ValueError("must not contain a lone surrogate (text must be valid Unicode)")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "pattern": _CLEAN_PATTERN}


# Every text a client sends: nothing that could drive a terminal or a log, no broken Unicode.
Text = Annotated[str, CleanText()]

Prompt = Annotated[Text, Field(min_length=1), Cap(max_length="prompt_max_chars")]
Side = Annotated[int, Field(multiple_of=8), Cap(minimum="image_min_side", maximum="image_max_side")]
Seed = Annotated[int, Field(ge=0, lt=2**32)]


class ImageInput(InputSchema):
    """Text-to-image: what to draw and how."""

    prompt: Prompt = Field(description="what to draw")
    negative_prompt: Annotated[Text, Cap(max_length="prompt_max_chars")] | None = Field(
        default=None, description="what to keep out of the image"
    )
    width: Side = Field(default=512, description="pixels, a multiple of 8")
    height: Side = Field(default=512, description="pixels, a multiple of 8")
    steps: Annotated[int, Field(ge=1), Cap(maximum="image_max_steps")] = Field(
        default=20, description="denoising steps"
    )
    guidance_scale: Annotated[float, Field(ge=0), Cap(maximum="image_max_guidance")] = Field(
        default=7.5, description="how closely to follow the prompt (classifier-free guidance)"
    )
    seed: Seed | None = Field(
        default=None, description="image i of the job uses seed + i; the worker picks one when absent"
    )
    num_images: Annotated[int, Field(ge=1), Cap(maximum="image_max_count")] = Field(
        default=1, description="images to make from this prompt"
    )

    @property
    def batch_key(self) -> str:
        """Jobs with equal keys can share one model call: same size, steps and guidance."""
        return f"{self.width}x{self.height}:{self.steps}:{self.guidance_scale}"


StopText = Annotated[Text, Field(min_length=1)]


class Message(InputSchema):
    """One turn; an assistant turn may hold any character a reply can (a model may emit \\f or ESC)."""

    # Either the assistant speaks, or the text is clean: so a client sends back any earlier reply.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"role": {"const": "assistant"}}},
                {"properties": {"content": {"pattern": _CLEAN_PATTERN}}},
            ]
        }
    )

    role: Literal["system", "user", "assistant"] = Field(description="who speaks")
    content: str = Field(description="what they say")

    @field_validator("content")
    @classmethod
    def _clean(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("role") != "assistant":
            return CleanText.check(value)
        if _SURROGATE.search(value):
            raise ValueError("must not contain a lone surrogate (text must be valid Unicode)")
        return value


class ChatInput(InputSchema):
    """A chat completion: the conversation so far and how to continue it."""

    messages: Annotated[list[Message], Field(min_length=1), Cap(max_items="chat_max_messages")] = Field(
        description="the conversation so far, rendered by the model's chat template"
    )
    max_tokens: Annotated[int, Field(ge=1), Cap(maximum="chat_max_tokens")] = Field(
        default=256, description="most tokens to generate"
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="sampling temperature; 0 is greedy")
    top_p: float = Field(default=1.0, gt=0, le=1, description="nucleus sampling: keep this much probability")
    seed: Seed | None = Field(default=None, description="the same seed gives the same reply")
    stop: StopText | Annotated[list[StopText], Cap(max_items="chat_max_stops")] | None = Field(
        default=None, description="text that ends the reply (not included in it)"
    )

    @field_validator("messages")
    @classmethod
    def _total_length(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        cap = limits_of(info).chat_max_chars
        if sum(len(m.content) for m in value) > cap:
            raise ValueError(f"the messages' content must total at most {cap} characters")
        return value

    @property
    def stops(self) -> list[str]:
        """The stop strings as a list, whichever form the client sent."""
        return [] if self.stop is None else [self.stop] if isinstance(self.stop, str) else list(self.stop)

    @property
    def batch_key(self) -> str:
        """Any chats can share one decode: sampling settings, stops and lengths are per row."""
        return "chat"


EmbedText = Annotated[Text, Field(min_length=1), Cap(max_length="embed_max_chars")]


class EmbedInput(InputSchema):
    """Texts to turn into vectors."""

    input: EmbedText | Annotated[list[EmbedText], Field(min_length=1), Cap(max_items="embed_max_inputs")] = (
        Field(description="a text, or a list of texts")
    )
    truncate: bool = Field(
        default=False,
        description="cut texts longer than the model reads (the result lists them); else such a job fails",
    )

    @property
    def texts(self) -> list[str]:
        """The input as a list, whichever form the client sent."""
        return [self.input] if isinstance(self.input, str) else list(self.input)

    @property
    def batch_key(self) -> str:
        """Any embeddings can share one encode."""
        return "embed"


JobInput = ImageInput | ChatInput | EmbedInput

INPUT_SCHEMAS: dict[JobType, type[JobInput]] = {
    JobType.IMAGE: ImageInput,
    JobType.CHAT: ChatInput,
    JobType.EMBED: EmbedInput,
}


def parse_input(job_type: JobType, data: object, limits: Limits, *, prefix: str = "input") -> JobInput:
    """Validate a job's input against its schema and the caps, or raise InputError naming each field."""
    try:
        return INPUT_SCHEMAS[job_type].model_validate(data, context={"limits": limits})
    except ValidationError as exc:
        raise InputError(
            f"the {job_type} input is invalid", errors=validation_errors(exc, prefix=prefix)
        ) from exc
