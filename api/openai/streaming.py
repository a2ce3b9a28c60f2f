"""A chat job's events as OpenAI's chat.completion.chunk Server-Sent Events; a client that leaves cancels it.

Like GET /v1/jobs/{id}/events, the stream replays the job's stored events, then waits on the event hub
(no polling), with a comment line while nothing happens, which keeps proxies from closing the stream
and notices a client that left. Each token event becomes one content delta: the worker sends whole
characters only, so a multi-byte character is never split between chunks.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator
from typing import Any

from api.events import KEEPALIVE_S
from api.openai.errors import ended
from api.openai.gone import GONE_CHECK_S, ClientGone, Gone, never_gone
from api.problems import openai_body
from api.services import Services
from shared.errors import InvalidTransitionError, ServiceError
from shared.events import Event
from shared.job_record import JobRecord, JobStatus
from shared.vocabulary import EventType

log = logging.getLogger(__name__)

DONE = "data: [DONE]\n\n"


def job_events(
    svc: Services, job_id: str, *, keepalive_s: float = KEEPALIVE_S, gone: Gone = never_gone
) -> Generator[Event | None, None, None]:
    """The job's stored events, then live ones until the terminal one; None after `keepalive_s` of quiet.

    While it waits it asks `gone` every GONE_CHECK_S, and raises ClientGone once the client has left.
    """
    after = "0-0"
    for event in svc.events.history(job_id):
        yield event
        after = event.id
        if event.terminal:
            return
    with svc.hub.subscribe(job_id, after) as sub:
        quiet_since = time.monotonic()
        while True:
            live = sub.next(min(GONE_CHECK_S, keepalive_s))
            if live is None and gone():
                raise ClientGone(job_id)
            if live is None and time.monotonic() - quiet_since < keepalive_s:
                continue
            quiet_since = time.monotonic()
            yield live
            if live is not None and live.terminal:
                return


def _data(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"


class Chunks:
    """The chunks of one reply: each carries the reply's id, creation time and model."""

    def __init__(self, record: JobRecord, *, model: str, include_usage: bool) -> None:
        self.base: dict[str, Any] = {
            "id": f"chatcmpl-{record.id}",
            "object": "chat.completion.chunk",
            "created": int(record.created_at),
            "model": model,
            "system_fingerprint": None,
        }
        self.include_usage = include_usage

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        """A chunk with one choice: what the reply adds, and why it ended on the last one."""
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        usage = {"usage": None} if self.include_usage else {}
        return _data({**self.base, "choices": [choice], **usage})

    def ending(self, record: JobRecord, sent: str) -> Iterator[str]:
        """After the terminal event: the rest of the text, the finish reason and usage, or the error."""
        if record.status != JobStatus.SUCCEEDED or record.result is None:
            yield _data(openai_body(ended(record)))
            return
        text = str(record.result.get("text", ""))
        if text.startswith(sent) and len(text) > len(sent):
            yield self.delta({"content": text[len(sent) :]})
        elif not text.startswith(sent):
            log.warning("job %s: the streamed text is not the start of the reply", record.id)
        yield self.delta({}, record.result.get("finish_reason", "stop"))
        if self.include_usage:
            yield _data({**self.base, "choices": [], "usage": record.result.get("usage")})


def chunk_stream(
    svc: Services, record: JobRecord, *, model: str, include_usage: bool, gone: Gone = never_gone
) -> Iterator[str]:
    """The reply as chunks then [DONE]; if the client goes before the job ends, the job is canceled.

    A client seen gone (`gone`, asked every GONE_CHECK_S while nothing happens) cancels it at once,
    queued or running, rather than at the next keep-alive write that fails.
    """
    chunks = Chunks(record, model=model, include_usage=include_usage)
    events = job_events(svc, record.id, gone=gone)
    complete = False
    try:
        yield chunks.delta({"role": "assistant", "content": ""})
        sent = ""
        for event in events:
            if event is None:
                yield ": keep-alive\n\n"
            elif event.type == EventType.TOKEN and event.data.get("text"):
                sent += event.data["text"]
                yield chunks.delta({"content": event.data["text"]})
        yield from chunks.ending(svc.store.get(record.id), sent)
        complete = True
    except ClientGone:
        return  # nobody to write to; `finally` cancels the job
    except ServiceError as exc:  # Redis went away mid-stream: say so in the stream, which ends
        log.warning("job %s: the stream ends early: %s", record.id, exc)
        yield _data(openai_body(exc))
    finally:
        events.close()  # its subscription ends now, not when the generator is collected
        if not complete:
            _cancel(svc, record.id)
    yield DONE


def _cancel(svc: Services, job_id: str) -> None:
    """Cancel the job of a stream that ended early (its client left); a finished one stays as it is."""
    try:
        svc.store.cancel(job_id)
        log.info("job %s: canceled, its stream ended early", job_id)
    except InvalidTransitionError:
        pass
    except ServiceError as exc:
        log.warning("job %s: could not cancel after its stream ended: %s", job_id, exc)
