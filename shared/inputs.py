"""Wire schemas of job inputs, with every cap read from `Limits` so they live in one place."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from shared.errors import InputError
from shared.jobs import JobType
from shared.settings import Limits


def _limits(info: ValidationInfo) -> Limits:
    context = info.context or {}
    limits = context.get("limits")
    return limits if isinstance(limits, Limits) else Limits()


def _at_most(value: int | float, cap: int | float, what: str) -> None:
    if value > cap:
        raise ValueError(f"{what} must be at most {cap}")


class _Input(BaseModel):
    # Strict: "512" is not a width and true is not a step count; the client gets told.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ImageInput(_Input):
    """Text-to-image: what to draw and how."""

    prompt: str = Field(min_length=1)
    negative_prompt: str | None = None
    width: int = Field(default=512, multiple_of=8)
    height: int = Field(default=512, multiple_of=8)
    steps: int = Field(default=20, ge=1)
    guidance_scale: float = Field(default=7.5, ge=0)
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    num_images: int = Field(default=1, ge=1)

    @field_validator("prompt", "negative_prompt")
    @classmethod
    def _prompt_cap(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _at_most(len(value), _limits(info).prompt_max_chars, "length in characters")
        return value

    @field_validator("width", "height")
    @classmethod
    def _side(cls, value: int, info: ValidationInfo) -> int:
        limits = _limits(info)
        if not limits.image_min_side <= value <= limits.image_max_side:
            raise ValueError(
                f"must be between {limits.image_min_side} and {limits.image_max_side}"
            )
        return value

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: int, info: ValidationInfo) -> int:
        _at_most(value, _limits(info).image_max_steps, "steps")
        return value

    @field_validator("guidance_scale")
    @classmethod
    def _guidance(cls, value: float, info: ValidationInfo) -> float:
        _at_most(value, _limits(info).image_max_guidance, "guidance_scale")
        return value

    @field_validator("num_images")
    @classmethod
    def _count(cls, value: int, info: ValidationInfo) -> int:
        _at_most(value, _limits(info).image_max_count, "num_images")
        return value


class Message(_Input):
    """One turn of a conversation."""

    role: Literal["system", "user", "assistant"]
    content: str


class ChatInput(_Input):
    """A chat completion: the conversation so far and how to continue it."""

    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.7, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    stop: list[str] | None = None

    @field_validator("messages")
    @classmethod
    def _messages_cap(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        limits = _limits(info)
        _at_most(len(value), limits.chat_max_messages, "the number of messages")
        _at_most(sum(len(m.content) for m in value), limits.chat_max_chars, "total content length")
        return value

    @field_validator("max_tokens")
    @classmethod
    def _tokens_cap(cls, value: int, info: ValidationInfo) -> int:
        _at_most(value, _limits(info).chat_max_tokens, "max_tokens")
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_list(cls, value: Any, info: ValidationInfo) -> Any:
        value = [value] if isinstance(value, str) else value
        if isinstance(value, list):
            _at_most(len(value), _limits(info).chat_max_stops, "the number of stop strings")
            if any(isinstance(s, str) and not s for s in value):
                raise ValueError("stop strings must not be empty")
        return value


class EmbedInput(_Input):
    """Texts to turn into vectors."""

    input: str | list[str]

    @field_validator("input")
    @classmethod
    def _texts_cap(cls, value: str | list[str], info: ValidationInfo) -> str | list[str]:
        limits = _limits(info)
        texts = [value] if isinstance(value, str) else value
        if not texts:
            raise ValueError("must hold at least one text")
        _at_most(len(texts), limits.embed_max_inputs, "the number of texts")
        _at_most(max(len(t) for t in texts), limits.embed_max_chars, "the length of each text")
        return value

    @property
    def texts(self) -> list[str]:
        """The input as a list, whichever form the client sent."""
        return [self.input] if isinstance(self.input, str) else list(self.input)


INPUT_SCHEMAS: dict[JobType, type[_Input]] = {
    JobType.IMAGE: ImageInput,
    JobType.CHAT: ChatInput,
    JobType.EMBED: EmbedInput,
}

JobInput = ImageInput | ChatInput | EmbedInput


def parse_input(
    job_type: JobType, data: object, limits: Limits, *, prefix: str = "input"
) -> JobInput:
    """Validate a job's input against its schema and the caps, or raise InputError."""
    schema = INPUT_SCHEMAS[job_type]
    try:
        return schema.model_validate(data, context={"limits": limits})  # type: ignore[return-value]
    except ValidationError as exc:
        raise InputError(
            f"the {job_type} input is invalid", validation_errors(exc, prefix=prefix)
        ) from exc


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[dict[str, object]]:
    """Flatten pydantic's errors into problem+json `errors` entries naming each field."""
    out: list[dict[str, object]] = []
    for err in exc.errors(include_url=False, include_input=False):
        parts = [prefix] if prefix else []
        parts += [str(p) for p in err["loc"] if not _is_union_tag(p)]
        entry = {
            "field": ".".join(parts) or "body",
            "message": err["msg"].removeprefix("Value error, "),
            "type": err["type"],
        }
        if entry not in out:
            out.append(entry)
    return out


def _is_union_tag(part: str | int) -> bool:
    # pydantic names the union member it tried ("str", "list[str]") inside the location.
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part)


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict"})
