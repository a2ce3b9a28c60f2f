"""Logs as text for people or JSON lines for machines (LLMB_LOG_FORMAT), every line about a job naming it.

JSON lines come from python-json-logger. What a line is about (job_id, type, attempt, traceparent,
key_id, tenant) rides in a context variable that `bind` sets for the current request, task or
greenlet, or in a record's `extra`; Celery's own lines name their task, whose id is the job's.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FIELDS = ("job_id", "type", "attempt", "traceparent", "key_id", "tenant")
_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("llmb_log_context", default=None)
_TASK_ID = re.compile(r"\[([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]")
# A line break, another control character or a Unicode line separator from a client (a path holding
# %0a, a header, a key name) would start a forged line in a text log: each is written as its escape.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
HANDLER_NAME = "llmb"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s"


def bind(**fields: Any) -> None:
    """Name what the following lines (of this request, task or greenlet) are about (None: no longer)."""
    _CONTEXT.set(_merged(fields))


def unbind() -> None:
    """Forget what `bind` named."""
    _CONTEXT.set(None)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """`bind` for the duration of a block, then what was bound before."""
    token = _CONTEXT.set(_merged(fields))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def _merged(fields: dict[str, Any]) -> dict[str, Any]:
    merged = {**(_CONTEXT.get() or {}), **fields}
    return {k: v for k, v in merged.items() if v not in (None, "")}


class JobFields(logging.Filter):
    """Puts the bound fields on every record, and a Celery task's id as its job_id."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_CONTEXT.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        if not hasattr(record, "job_id") and record.name.startswith("celery"):
            found = _TASK_ID.search(record.getMessage())
            if found:
                record.job_id = found.group(1)
        return True


def escape(text: str) -> str:
    """`text` with control characters and line separators written as escapes (\\n, \\x1b, \\u2028)."""
    return _UNSAFE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


class TextFormatter(logging.Formatter):
    """One record, one line: whatever the message holds is escaped (a traceback still follows it)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape(super().formatMessage(record))


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for `text` or `json` (one JSON object a line: time, level, logger, message, fields)."""
    if log_format != "json":
        return TextFormatter(TEXT_FORMAT)
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
    )


def configure(level: str, log_format: str) -> None:
    """Send every logger's records (warnings included) to stderr in the chosen format, job fields added."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(JobFields())
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    # Ours replaces ours (an app built again); handlers others added (a test runner's capture) stay.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)


def say(message: str, logger: str) -> None:
    """Write one WARNING line in the configured format with a single os.write (safe in a signal handler)."""
    ours = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    record = logging.LogRecord(logger, logging.WARNING, __file__, 0, message.strip(), None, None)
    line = ours[0].format(record) if ours else message.strip()
    os.write(sys.stderr.fileno(), f"{line}\n".encode())


def job_fields(record: Any) -> dict[str, Any]:
    """The log fields of a job record, for the `extra` of a line about it."""
    return {
        "job_id": record.id,
        "type": str(record.type),
        "attempt": record.attempts,
        "traceparent": getattr(record, "traceparent", "") or None,
        "key_id": record.key_id or None,
        "tenant": record.owner,
    }
