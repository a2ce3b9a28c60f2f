"""Wire schemas of job inputs, with every cap read from `Limits` so they live in one place."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from shared.caps import check_caps
from shared.errors import InputError
from shared.jobs import JobType
from shared.settings import Limits


def _limits(info: ValidationInfo) -> Limits:
    context = info.context or {}
    limits = context.get("limits")
    return limits if isinstance(limits, Limits) else Limits()


class CappedInput(BaseModel):
    """A wire schema whose fields are checked against the caps table with the request's limits."""

    # Strict: "512" is not a width and true is not a step count; the client gets told.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _integral_floats(cls, value: Any, info: ValidationInfo) -> Any:
        # JSON has one number type: 20.0 is an integer to JSON Schema, so it is one here too.
        if isinstance(value, float) and value.is_integer() and info.field_name in _int_fields(cls):
            return int(value)
        return value

    @field_validator("*")
    @classmethod
    def _caps(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and info.field_name is not None:
            check_caps(cls.__name__, info.field_name, value, _limits(info))
        return value


@cache
def _int_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name for name, field in model.model_fields.items() if field.annotation in (int, int | None)
    )


class ImageInput(CappedInput):
    """Text-to-image: what to draw and how."""

    prompt: str = Field(min_length=1)
    negative_prompt: str | None = None
    width: int = Field(default=512, multiple_of=8)
    height: int = Field(default=512, multiple_of=8)
    steps: int = Field(default=20, ge=1)
    guidance_scale: float = Field(default=7.5, ge=0)
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    num_images: int = Field(default=1, ge=1)


StopText = Annotated[str, Field(min_length=1)]


class Message(CappedInput):
    """One turn of a conversation."""

    role: Literal["system", "user", "assistant"]
    content: str


class ChatInput(CappedInput):
    """A chat completion: the conversation so far and how to continue it."""

    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.7, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    stop: StopText | list[StopText] | None = None

    @field_validator("messages")
    @classmethod
    def _total_length(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        cap = _limits(info).chat_max_chars
        if sum(len(m.content) for m in value) > cap:
            raise ValueError(f"the messages' content must total at most {cap} characters")
        return value

    @property
    def stops(self) -> list[str]:
        """The stop strings as a list, whichever form the client sent."""
        return [] if self.stop is None else [self.stop] if isinstance(self.stop, str) else list(self.stop)


class EmbedInput(CappedInput):
    """Texts to turn into vectors."""

    input: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1)]

    @property
    def texts(self) -> list[str]:
        """The input as a list, whichever form the client sent."""
        return [self.input] if isinstance(self.input, str) else list(self.input)


INPUT_SCHEMAS: dict[JobType, type[CappedInput]] = {
    JobType.IMAGE: ImageInput,
    JobType.CHAT: ChatInput,
    JobType.EMBED: EmbedInput,
}

JobInput = ImageInput | ChatInput | EmbedInput


def parse_input(job_type: JobType, data: object, limits: Limits, *, prefix: str = "input") -> JobInput:
    """Validate a job's input against its schema and the caps, or raise InputError."""
    schema = INPUT_SCHEMAS[job_type]
    try:
        return schema.model_validate(data, context={"limits": limits})  # type: ignore[return-value]
    except ValidationError as exc:
        raise InputError(f"the {job_type} input is invalid", validation_errors(exc, prefix=prefix)) from exc


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[dict[str, object]]:
    """Flatten pydantic's errors into problem+json `errors` entries naming each field."""
    by_field: dict[str, dict[str, object]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        parts = [prefix] if prefix else []
        parts += [str(p) for p in err["loc"] if not _is_union_tag(p)]
        field = ".".join(parts) or "body"
        message = err["msg"].removeprefix("Value error, ")
        if field in by_field:  # each member of a union failed here: say what each wanted
            by_field[field]["message"] = f"{by_field[field]['message']}; or {message[0].lower()}{message[1:]}"
            continue
        by_field[field] = {"field": field, "message": message, "type": err["type"]}
    return list(by_field.values())


def _is_union_tag(part: str | int) -> bool:
    # pydantic names the union member it tried ("str", "list[str]") inside the location.
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part or "-" in part)


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict"})
