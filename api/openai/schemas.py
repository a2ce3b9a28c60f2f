"""Wire schemas of the OpenAI-compatible bodies: OpenAI's field names, each one we take and nothing else.

Fields that tools send by habit are taken at their neutral values (`n: 1`, `frequency_penalty: 0`,
`logprobs: false`, ...); another value, a field we do not know, or one we cannot honour is a 400
naming it, never silently ignored. The texts and caps are checked again as the job's input.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


def _same(value: Any, neutral: Any) -> bool:
    # `True == 1` and `0 == False` in Python; a flag is not a number here.
    return isinstance(value, bool) == isinstance(neutral, bool) and value == neutral


class OpenAISchema(BaseModel):
    """A strict OpenAI body: unknown fields are refused, and `NEUTRAL` fields take only the listed values."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # field -> the values this service can honour (none listed: only null or absent)
    NEUTRAL: ClassVar[dict[str, tuple[Any, ...]]] = {}

    @field_validator("*", mode="after")
    @classmethod
    def _neutral(cls, value: Any, info: ValidationInfo) -> Any:
        allowed = cls.NEUTRAL.get(info.field_name or "")
        if allowed is None or value is None or any(_same(value, a) for a in allowed):
            return value
        wanted = " or ".join(repr(a) for a in allowed) if allowed else "null"
        raise PydanticCustomError(
            "unsupported_value",
            "this service does not support {value} here; send {wanted} or leave it out",
            {"value": repr(value), "wanted": wanted},
        )


class EmbeddingsRequest(OpenAISchema):
    """Body of POST /v1/embeddings."""

    model: str
    input: str | list[str] = Field(description="a text or a list of texts (token ids are not taken)")
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, description="only the model's own length is taken")
    user: str | None = None
    truncate: bool | None = Field(
        default=None, description="extension: cut texts longer than the model reads"
    )

    @field_validator("input", mode="before")
    @classmethod
    def _no_token_ids(cls, value: Any) -> Any:
        ints = isinstance(value, list) and value and all(isinstance(v, int | list) for v in value)
        if ints:
            raise PydanticCustomError("unsupported_value", "token ids are not taken; send the texts")
        return value


class ImagesRequest(OpenAISchema):
    """Body of POST /v1/images/generations; seed, negative_prompt, steps and guidance_scale are extensions."""

    NEUTRAL: ClassVar[dict[str, tuple[Any, ...]]] = {
        "quality": ("auto", "standard"),
        "style": (),
        "output_format": ("png",),
        "output_compression": (),
        "background": ("auto", "opaque"),
        "moderation": ("auto", "low"),
        "partial_images": (0,),
        "stream": (False,),
    }

    prompt: str
    model: str | None = None
    n: int | None = None
    size: str | None = Field(default=None, description="WxH, or auto (the service's default)")
    response_format: Literal["url", "b64_json"] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    quality: Any = None
    style: Any = None
    output_format: Any = None
    output_compression: Any = None
    background: Any = None
    moderation: Any = None
    partial_images: Any = None
    stream: Any = None
