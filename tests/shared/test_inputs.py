from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InputError
from shared.inputs import ChatInput, EmbedInput, ImageInput, parse_input
from shared.job_record import JobType
from shared.settings import Limits

IMAGE_OK = {"prompt": "a red fox"}
CHAT_OK = {"messages": [{"role": "user", "content": "hi"}]}


def fields_of(job_type: JobType, data: Any, limits: Limits | None = None) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_input(job_type, data, limits or Limits())
    return [str(e["field"]) for e in info.value.errors]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"width": 4096}, "input.width"),
        ({"height": 32}, "input.height"),
        ({"width": 100}, "input.width"),
        ({"steps": 0}, "input.steps"),
        ({"steps": 51}, "input.steps"),
        ({"steps": "5"}, "input.steps"),
        ({"steps": True}, "input.steps"),
        ({"guidance_scale": 21}, "input.guidance_scale"),
        ({"guidance_scale": -1}, "input.guidance_scale"),
        ({"num_images": 5}, "input.num_images"),
        ({"num_images": 0}, "input.num_images"),
        ({"seed": -1}, "input.seed"),
        ({"seed": 2**32}, "input.seed"),
        ({"prompt": ""}, "input.prompt"),
        ({"prompt": "x" * 2001}, "input.prompt"),
        ({"negative_prompt": "x" * 2001}, "input.negative_prompt"),
        ({"status": "succeeded"}, "input.status"),
    ],
)
def test_image_caps_and_types_name_the_field(change: dict[str, Any], field: str) -> None:
    assert fields_of(JobType.IMAGE, {**IMAGE_OK, **change}) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messages": []}, "input.messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "input.messages.0.role"),
        ({"messages": [{"role": "user"}]}, "input.messages.0.content"),
        ({"max_tokens": 0}, "input.max_tokens"),
        ({"max_tokens": 2049}, "input.max_tokens"),
        ({"temperature": 2.5}, "input.temperature"),
        ({"top_p": 0}, "input.top_p"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "input.stop"),
        ({"stop": [""]}, ["input.stop.0"]),  # the array member got further: only its error shows
    ],
)
def test_chat_caps_and_types_name_the_field(change: dict[str, Any], field: str | list[str]) -> None:
    assert fields_of(JobType.CHAT, {**CHAT_OK, **change}) == (field if isinstance(field, list) else [field])


def test_embed_caps() -> None:
    assert fields_of(JobType.EMBED, {"input": ["x"] * 257}) == ["input.input"]
    assert fields_of(JobType.EMBED, {"input": []}) == ["input.input"]
    assert fields_of(JobType.EMBED, {"input": "x" * 8193}) == ["input.input"]
    assert fields_of(JobType.EMBED, {"input": ["a", 3]}) == ["input.input.1"]


def test_defaults_fill_in() -> None:
    image = parse_input(JobType.IMAGE, IMAGE_OK, Limits())
    assert isinstance(image, ImageInput)
    assert (image.width, image.height, image.steps, image.num_images, image.seed) == (512, 512, 20, 1, None)
    chat = parse_input(JobType.CHAT, {**CHAT_OK, "stop": "END"}, Limits())
    assert isinstance(chat, ChatInput)
    assert chat.stops == ["END"]
    embed = parse_input(JobType.EMBED, {"input": "one"}, Limits())
    assert isinstance(embed, EmbedInput)
    assert embed.texts == ["one"]


def test_integral_floats_count_as_integers_as_in_json_schema() -> None:
    parsed = parse_input(JobType.IMAGE, {**IMAGE_OK, "steps": 20.0, "seed": 7.0}, Limits())
    assert isinstance(parsed, ImageInput)
    assert (parsed.steps, parsed.seed) == (20, 7)
    assert isinstance(parsed.steps, int)
    assert fields_of(JobType.IMAGE, {**IMAGE_OK, "steps": 20.5}) == ["input.steps"]


def test_caps_come_from_the_limits_given() -> None:
    wide = Limits(image_max_side=2048, image_max_steps=100)
    parsed = parse_input(JobType.IMAGE, {**IMAGE_OK, "width": 2048, "steps": 100}, wide)
    assert isinstance(parsed, ImageInput)
    assert parsed.width == 2048
    assert fields_of(JobType.IMAGE, {**IMAGE_OK, "width": 1024}, Limits(image_max_side=512)) == [
        "input.width"
    ]
