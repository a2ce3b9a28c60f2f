"""Chat load through POST /v1/chat/completions, streamed: every reply's chunks read as a client reads them.

Each job is one streaming request held open from its POST to its `data: [DONE]`, all at once (one
connection each, as that many clients would), with `stream_options.include_usage` so the last chunk
counts the reply's tokens. The client parses only that chunk, to take as little of the CPU as it can.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Streamed:
    """One streamed reply: its job, its tokens (from the usage chunk) and when [DONE] arrived."""

    job_id: str
    completion_tokens: int
    chunks: int
    done_at: float


def chat_model(http: httpx.Client) -> str:
    """The first chat model the API lists (the worker runs whatever LLMB_CHAT_MODEL names)."""
    listed = http.get("/v1/models").json()["data"]
    return str(next(m["id"] for m in listed if m.get("job_type") == "chat"))


def request_body(job_input: dict[str, Any], model: str) -> dict[str, Any]:
    """The OpenAI body of a native chat input (the same messages, length, sampling and seed)."""
    return {"model": model, **job_input, "stream": True, "stream_options": {"include_usage": True}}


def stream_one(http: httpx.Client, body: dict[str, Any]) -> Streamed:
    """Post one streaming request and read it to its [DONE]."""
    tokens, chunks = 0, 0
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(
                f"POST /v1/chat/completions answered {response.status_code}: {response.read()!r}"
            )
        job_id = response.headers["X-Job-Id"]
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            chunks += 1
            if line == "data: [DONE]":
                break
            if '"usage":{' in line:
                tokens = int(json.loads(line[6:])["usage"]["completion_tokens"])
    return Streamed(job_id, tokens, chunks, time.time())


def stream_all(base_url: str, inputs: list[dict[str, Any]], *, timeout: float = 3600) -> list[Streamed]:
    """Stream every input's reply at once, one connection each; the replies in input order."""
    limits = httpx.Limits(max_connections=len(inputs), max_keepalive_connections=len(inputs))
    with (
        httpx.Client(base_url=base_url, timeout=timeout, limits=limits) as http,
        ThreadPoolExecutor(max_workers=len(inputs)) as pool,
    ):
        model = chat_model(http)
        return list(pool.map(lambda job_input: stream_one(http, request_body(job_input, model)), inputs))
