"""What tools send by default succeeds: LangChain driven for real, LlamaIndex's captured bodies replayed.

llama-index-llms-openai requires openai<3, which cannot share an environment with the SDK these tests
pin, so its requests are replayed as captured: llama-index-llms-openai-like 0.8.1 (`OpenAILike`, the
class LlamaIndex documents for OpenAI-compatible servers, with is_chat_model=True) and
llama-index-embeddings-openai 0.7.0 (`OpenAIEmbedding`), each on openai 2.54, sent these bodies for
`complete`, `chat`, `stream_chat` and `get_text_embedding(_batch)`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from tests.openai.conftest import CHAT_MODEL, EMBED_MODEL, Deployment

pytestmark = pytest.mark.slow

LLAMA_INDEX_BODIES: list[tuple[str, dict[str, Any]]] = [
    (
        "/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": "hello"}],
            "model": CHAT_MODEL,
            "stream": False,
            "temperature": 0.1,
        },
    ),
    (
        "/v1/chat/completions",
        {
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
            "model": CHAT_MODEL,
            "stream": False,
            "temperature": 0.1,
        },
    ),
    (
        "/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": "hello"}],
            "model": CHAT_MODEL,
            "stream": True,
            "temperature": 0.1,
        },
    ),
    ("/v1/embeddings", {"input": ["hi"], "model": EMBED_MODEL, "encoding_format": "base64"}),
    ("/v1/embeddings", {"input": ["a", "b"], "model": EMBED_MODEL, "encoding_format": "base64"}),
]
# langchain-openai before 0.3 (and LangChain's ChatOpenAI before it) sent n and its default temperature.
OLDER_LANGCHAIN_BODY = {
    "model": CHAT_MODEL,
    "stream": False,
    "n": 1,
    "temperature": 0.7,
    "messages": [{"role": "user", "content": "hello"}],
}


def test_langchain_chat_invoke_and_stream(deployment: Deployment, key: str) -> None:
    llm = ChatOpenAI(base_url=f"{deployment.base}/v1", api_key=key, model=CHAT_MODEL, max_tokens=12)  # type: ignore[arg-type]
    reply = llm.invoke("hello")
    assert isinstance(reply.content, str)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] <= 12
    said = ChatOpenAI(base_url=f"{deployment.base}/v1", api_key=key, model=CHAT_MODEL, stream_usage=True)  # type: ignore[arg-type]
    pieces = list(said.stream("say:Hello, fox 🦊!"))
    assert "".join(str(p.content) for p in pieces) == "Hello, fox 🦊!"
    assert any(p.usage_metadata for p in pieces)


def test_langchain_embeddings(deployment: Deployment, key: str) -> None:
    # check_embedding_ctx_length=False: its default tokenizes with tiktoken, whose files come from the
    # network, and sends token ids, which no server but OpenAI's takes; it is the documented setting
    # for OpenAI-compatible servers.
    embedder = OpenAIEmbeddings(
        base_url=f"{deployment.base}/v1",
        api_key=key,  # type: ignore[arg-type]
        model=EMBED_MODEL,
        check_embedding_ctx_length=False,
    )
    vectors = embedder.embed_documents(["A cat sits on the mat.", "A kitten is sitting on a rug."])
    query = embedder.embed_query("A cat sits on the mat.")
    assert [len(v) for v in vectors] == [384, 384]
    assert np.allclose(query, vectors[0], atol=1e-6)


def post(deployment: Deployment, key: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """Send `body` as the tool does (JSON, a bearer key) and read the whole answer."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=deployment.base, headers=headers, timeout=120) as http:
        return http.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("path", "body"), [*LLAMA_INDEX_BODIES, ("/v1/chat/completions", OLDER_LANGCHAIN_BODY)]
)
def test_the_bodies_llamaindex_and_older_langchain_send_succeed(
    deployment: Deployment, key: str, path: str, body: dict[str, Any]
) -> None:
    answer = post(deployment, key, path, body)
    assert answer.status_code == 200, answer.text
    if body.get("stream"):
        frames = [
            line.removeprefix("data: ") for line in answer.text.split("\n\n") if line.startswith("data: ")
        ]
        assert frames[-1] == "[DONE]"
        chunks = [json.loads(f) for f in frames[:-1]]
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    elif path.endswith("/embeddings"):
        vectors = [np.frombuffer(base64.b64decode(d["embedding"]), "<f4") for d in answer.json()["data"]]
        assert [v.shape for v in vectors] == [(384,)] * len(body["input"])
    else:
        assert answer.json()["choices"][0]["message"]["role"] == "assistant"


def test_fields_tools_send_by_habit_are_taken_at_their_neutral_values(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "say:fine"}],
        n=1,
        frequency_penalty=0,
        presence_penalty=0,
        logprobs=False,
        logit_bias={},
        user="someone",
        response_format={"type": "text"},
        parallel_tool_calls=True,
        tool_choice="none",
        store=False,
        service_tier="auto",
        metadata={"run": "tests"},
        stream_options=None,
        top_p=1,
        temperature=0,
        stop=["\n\n"],
        seed=1,
    )
    assert reply.choices[0].message.content == "fine"
