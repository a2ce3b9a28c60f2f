"""POST /v1/chat/completions: a chat job answered as OpenAI's chat.completion, or streamed as its chunks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from api.auth import principal
from api.headers import CREATE_HEADERS
from api.holding import Taken
from api.openai.catalog import find_model
from api.openai.chat_schema import ChatRequest
from api.openai.context import check_fits
from api.openai.errors import TAGS, WRITE_ERRORS, answers
from api.openai.gone import client_gone
from api.openai.jobs import answer, finished, job_input, read_request, submit
from api.openai.streaming import chunk_stream
from api.operations import operation
from api.services import Services, services
from api.submit import Submitted
from api.waiting import open_stream
from shared.auth import Scope
from shared.job_record import JobRecord, JobType

bp = Blueprint("chat", __name__, url_prefix="/chat")

ROUTE = "/v1/chat/completions"


@operation(
    bp.post("/completions"),
    answers(
        "a chat.completion, or chat.completion.chunk Server-Sent Events when stream is true", *WRITE_ERRORS
    ),
    scopes=(Scope.JOBS_WRITE,),
    params=CREATE_HEADERS,
    tags=TAGS,
)
def create() -> Response:
    """A reply to the conversation as OpenAI's chat.completion (or its stream); X-Job-Id names the job."""
    svc = services()
    body = read_request(ChatRequest, svc.settings.limits)
    find_model(svc.settings, body.model, JobType.CHAT)
    rename = {"max_tokens": body.tokens_field}
    chat = job_input(JobType.CHAT, body.job_input(), svc.settings.limits, rename=rename)
    if body.stream:  # what can be refused is refused before the stream's 200 (the worker checks again)
        check_fits(svc.settings, chat)
        with svc.holder.place(principal()) as place:  # 429 before anything is submitted
            return _streamed(svc, submit(svc, ROUTE, JobType.CHAT, chat, wait_s=0), body, place)
    wait_s = svc.settings.openai_wait_s
    done = submit(svc, ROUTE, JobType.CHAT, chat, wait_s=wait_s)
    return answer(completion(finished(svc, done, wait_s, param="messages"), body.model), done)


def _streamed(svc: Services, done: Submitted, body: ChatRequest, place: Taken) -> Response:
    """The reply as chat.completion.chunk Server-Sent Events, with the job's headers."""
    gone = client_gone()  # read in the request's context: the stream runs after it
    stream = chunk_stream(svc, done.record, model=body.model, include_usage=body.include_usage, gone=gone)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Job-Id": done.record.id}
    if done.replayed:
        headers["Idempotent-Replayed"] = "true"
    body_frames = place.stream(open_stream(stream))
    return Response(body_frames, mimetype="text/event-stream", headers={**headers, **done.headers})


def completion(record: JobRecord, model: str) -> dict[str, Any]:
    """A succeeded chat job as OpenAI's chat.completion object."""
    result = record.result or {}
    return {
        "id": f"chatcmpl-{record.id}",
        "object": "chat.completion",
        "created": int(record.created_at),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.get("text", ""), "refusal": None},
                "logprobs": None,
                "finish_reason": result.get("finish_reason", "stop"),
            }
        ],
        "usage": result.get("usage"),
    }
