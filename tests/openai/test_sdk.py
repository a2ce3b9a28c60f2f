"""Every OpenAI-compatible endpoint driven by the official `openai` SDK, unchanged, against the real stack."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from tests.openai.conftest import CHAT_MODEL, EMBED_MODEL, IMAGE_MODEL, Deployment, Native

pytestmark = pytest.mark.slow

HELLO = [{"role": "user", "content": "Tell me about foxes."}]


def test_chat_completion_has_usage_and_finish_reason_and_is_a_job(
    client: openai.OpenAI, native: Native
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=HELLO, max_tokens=16, seed=5, temperature=1.0
    )
    reply = raw.parse()
    job_id = raw.headers["X-Job-Id"]
    assert reply.object == "chat.completion"
    assert reply.id == f"chatcmpl-{job_id}"
    assert reply.model == CHAT_MODEL
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length")
    usage = reply.usage
    assert usage is not None
    assert 0 < usage.completion_tokens <= 16
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    job = native.job(job_id)  # the same job, through the native API
    assert job["status"] == "succeeded"
    assert job["result"]["text"] == choice.message.content
    assert job["input"]["max_tokens"] == 16


def test_chat_stream_has_role_deltas_finish_reason_usage_and_adds_up(client: openai.OpenAI) -> None:
    asked = {"model": CHAT_MODEL, "messages": HELLO, "max_tokens": 24, "seed": 9, "temperature": 1.0}
    whole = client.chat.completions.create(**asked)  # type: ignore[call-overload]
    with client.chat.completions.create(
        **asked, stream=True, stream_options={"include_usage": True}
    ) as stream:  # type: ignore[call-overload]
        chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage == whole.usage
    last = chunks[-2]
    assert last.choices[0].finish_reason == whole.choices[0].finish_reason
    assert all(c.choices[0].finish_reason is None for c in chunks[:-2])
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert text == whole.choices[0].message.content


def test_chat_takes_the_list_of_parts_form_and_max_completion_tokens(client: openai.OpenAI) -> None:
    parts = [{"type": "text", "text": "say:a"}, {"type": "text", "text": "b"}]
    reply = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": parts}],  # type: ignore[list-item]
        max_completion_tokens=8,
    )
    assert reply.choices[0].message.content == "a\nb"  # parts joined by a newline, as vLLM does
    assert reply.choices[0].finish_reason == "stop"


def test_embeddings_float_and_base64_are_the_same_float32_vectors(client: openai.OpenAI) -> None:
    texts = ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Quarterly revenue rose."]
    floats = client.embeddings.create(model=EMBED_MODEL, input=texts, encoding_format="float")
    packed = client.embeddings.create(model=EMBED_MODEL, input=texts, encoding_format="base64")
    default = client.embeddings.create(model=EMBED_MODEL, input=texts)  # the SDK asks for base64, decodes it
    assert floats.object == "list"
    assert floats.model == EMBED_MODEL
    assert [d.index for d in floats.data] == [0, 1, 2]
    vectors = np.array([d.embedding for d in floats.data], dtype=np.float32)
    assert vectors.shape == (3, 384)
    decoded = np.array(
        [np.frombuffer(base64.b64decode(str(d.embedding)), dtype="<f4") for d in packed.data],
        dtype=np.float32,
    )
    assert np.array_equal(decoded, vectors)
    assert np.array_equal(np.array([d.embedding for d in default.data], dtype=np.float32), vectors)
    assert floats.usage.prompt_tokens > 0
    assert floats.usage.total_tokens == floats.usage.prompt_tokens
    cosine = vectors @ vectors.T
    assert cosine[0, 1] > 0.5 > cosine[0, 2]
    single = client.embeddings.create(model=EMBED_MODEL, input=texts[0], dimensions=384)
    assert np.allclose(single.data[0].embedding, vectors[0], atol=1e-6)


def png_size(data: bytes) -> tuple[int, int]:
    """The size of a valid PNG (Pillow refuses anything else)."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


def pixels(data: bytes) -> np.ndarray:
    """A PNG's pixels as integers."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image).astype(int)


def test_images_as_b64_json_and_as_urls_are_pngs_of_the_asked_size(
    client: openai.OpenAI, deployment: Deployment, key: str
) -> None:
    asked = {
        "model": IMAGE_MODEL,
        "prompt": "a red fox",
        "size": "96x64",
        "extra_body": {"steps": 2, "seed": 4},
    }
    inline = client.images.generate(**asked, n=2, response_format="b64_json")  # type: ignore[arg-type]
    assert inline.data is not None
    assert len(inline.data) == 2
    assert inline.created > 0
    pictures = [base64.b64decode(str(d.b64_json)) for d in inline.data]
    assert [png_size(p) for p in pictures] == [(96, 64), (96, 64)]
    linked = client.images.generate(**asked, response_format="url")  # type: ignore[arg-type]
    assert linked.data is not None
    url = str(linked.data[0].url)
    assert url.startswith(f"{deployment.base}/v1/jobs/")  # local storage: the job's result route
    fetched = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert png_size(fetched.content) == (96, 64)
    # The same seed gives the same first image, alone or in a job of two, up to float rounding.
    assert np.abs(pixels(fetched.content) - pixels(pictures[0])).max() <= 4


def test_models_lists_each_job_types_model_and_retrieves_one(client: openai.OpenAI) -> None:
    listed = {m.id: m for m in client.models.list()}
    assert set(listed) == {CHAT_MODEL, EMBED_MODEL, IMAGE_MODEL}
    assert all(m.object == "model" and m.owned_by == "llmb" for m in listed.values())
    assert client.models.retrieve(CHAT_MODEL).id == CHAT_MODEL
    with pytest.raises(openai.NotFoundError) as found:
        client.models.retrieve("gpt-4o")
    assert found.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("asked", "param"),
    [
        ({"n": 3}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"max_tokens": 100_000}, "max_tokens"),
        ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].role"),
    ],
)
def test_what_the_service_cannot_honour_is_a_bad_request_naming_the_field(
    client: openai.OpenAI, asked: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**{"model": CHAT_MODEL, "messages": HELLO, **asked})  # type: ignore[call-overload]
    assert refused.value.param == param
    assert refused.value.type == "invalid_request_error"


def test_the_sdk_raises_its_exception_classes(
    sdk_for: Callable[..., openai.OpenAI], deployment: Deployment, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.AuthenticationError):
        sdk_for("llmb_aaaaaaaaaaaa_" + "A" * 43).models.list()
    reader = sdk_for(deployment.new_key("reader", scopes=["jobs:read"]))
    with pytest.raises(openai.PermissionDeniedError):
        reader.embeddings.create(model=EMBED_MODEL, input="x")
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    assert unknown.value.param == "model"
    with pytest.raises(openai.NotFoundError):  # a model of another type
        client.embeddings.create(model=CHAT_MODEL, input="x")
    with pytest.raises(openai.BadRequestError) as wrong:
        client.embeddings.create(model=EMBED_MODEL, input="x", dimensions=3)
    assert wrong.value.param == "dimensions"
    limited = sdk_for(deployment.new_key("one-a-minute", jobs_per_minute=1), max_retries=0)
    limited.embeddings.create(model=EMBED_MODEL, input="x")
    with pytest.raises(openai.RateLimitError) as refused:
        limited.embeddings.create(model=EMBED_MODEL, input="x")
    assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 60


def test_a_conversation_the_model_refuses_is_a_bad_request_naming_the_job(
    client: openai.OpenAI, native: Native
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:  # longer than the tiny model's context
        client.chat.completions.create(model=CHAT_MODEL, messages=HELLO, max_tokens=2048)
    job_id = refused.value.response.headers["X-Job-Id"]
    assert "context of 2048 tokens" in refused.value.message
    assert native.job(job_id)["error"]["code"] == "invalid_input"
