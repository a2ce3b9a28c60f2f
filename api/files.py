"""/v1/files, OpenAI's Files API for batch input: upload (multipart), read, download, list and delete.

The bytes go to the object store (where results live) under a folder of the tenant's, the metadata to
Redis (shared/store/files.py); another tenant's file answers as an unknown one (404).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from api import problems
from api.auth import principal
from api.batches.lines import nonblank
from api.guards import MULTIPART
from api.openai.errors import TAGS, InvalidRequestError, answers
from api.operations import operation
from api.services import services
from api.spec import query
from shared.auth import Scope
from shared.errors import BodyTooLargeError
from shared.settings import Limits
from shared.storage import ObjectStore, open_storage
from shared.store.files import FileRecord, FileStore, object_key

bp = Blueprint("files", __name__, url_prefix="/v1/files")
problems.register_openai(bp)

_MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and other fields, besides the file itself
_LIST = (
    query("limit", {"type": "integer", "minimum": 1}, "most files in the page (default 10000)"),
    query("after", {"type": "string"}, "the id of the last file of the previous page"),
    query("purpose", {"type": "string"}, "only the files of this purpose"),
)


def writer(app: Flask) -> ObjectStore:
    """The object store files are written to, opened on first use (the API otherwise only reads)."""
    store: ObjectStore | None = app.extensions.get("llmb_files_writer")
    if store is None:
        store = app.extensions["llmb_files_writer"] = open_storage(services().settings)
    return store


def files() -> FileStore:
    """The file metadata store over the API's Redis connections."""
    return FileStore.on(services().pool)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _upload(limits: Limits) -> tuple[str, bytes]:
    """The uploaded file's name and bytes; 413 past LLMB_LIMITS__FILE_MAX_BYTES, 400 naming a bad field."""
    request.max_content_length = limits.file_max_bytes + _MULTIPART_OVERHEAD
    try:
        purpose, upload = request.form.get("purpose"), request.files.get("file")
    except RequestEntityTooLarge as exc:
        raise BodyTooLargeError(f"the file is over the limit of {limits.file_max_bytes} bytes") from exc
    if purpose != "batch":
        raise InvalidRequestError(f"purpose must be 'batch', not {purpose!r}", param="purpose")
    if upload is None:
        raise InvalidRequestError("send the file as the multipart field 'file'", param="file")
    data = upload.stream.read(limits.file_max_bytes + 1)
    if len(data) > limits.file_max_bytes:
        raise BodyTooLargeError(f"the file is over the limit of {limits.file_max_bytes} bytes")
    # Counted as the batch runner reads them (one request a non-blank "\n"-ended line), a line at a
    # time: a list of the file's lines would hold a second copy of it in the worker at its peak.
    lines = sum(1 for _ in nonblank(data))
    if not lines:
        raise InvalidRequestError("the file has no requests: one JSON object a line", param="file")
    if lines > limits.batch_max_lines:
        message = f"the file has {lines} requests; a batch takes at most {limits.batch_max_lines}"
        raise InvalidRequestError(message, param="file", code="too_many_requests")
    return upload.filename or "upload.jsonl", data


@operation(bp.post(""), answers("the file object", 400, 413, 503), scopes=(Scope.JOBS_WRITE,), tags=TAGS)
def create() -> Response:
    """Upload a JSONL file of batch requests (multipart: `file`, `purpose=batch`); OpenAI's file object."""
    limits = services().settings.limits
    filename, data = _upload(limits)
    file_id = f"file-{uuid.uuid4().hex}"
    owner = principal().tenant
    key = object_key(owner, file_id)
    writer(current_app).put(key, data, content_type="application/jsonl")
    record = FileRecord(
        id=file_id,
        owner=owner,
        bytes=len(data),
        created_at=int(time.time()),
        filename=filename,
        purpose="batch",
        object_key=key,
    )
    files().add(record)
    return _json(record.public())


setattr(create, MULTIPART, True)


@operation(
    bp.get(""),
    answers("a page of file objects", 400, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    params=_LIST,
    tags=TAGS,
)
def list_files() -> Response:
    """The tenant's files, newest first, as OpenAI's list (`after` pages on)."""
    limit = _limit(10_000)
    found = files().list(principal().tenant, limit=limit + 1, after=request.args.get("after"))
    purpose = request.args.get("purpose")
    data = [f.public() for f in found[:limit] if purpose in (None, f.purpose)]
    return _json(page(data, has_more=len(found) > limit))


def _limit(default: int) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= default:
        raise InvalidRequestError(f"limit must be an integer from 1 to {default}", param="limit")
    return int(raw)


def page(data: list[dict[str, Any]], *, has_more: bool) -> dict[str, Any]:
    """A page in OpenAI's cursor list shape."""
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": has_more}


@operation(
    bp.get("/<file_id>"),
    answers("the file object", 404, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    tags=TAGS,
)
def retrieve(file_id: str) -> Response:
    """The tenant's file, as OpenAI's file object."""
    return _json(files().get(file_id, principal().tenant).public())


@operation(
    bp.get("/<file_id>/content"),
    answers("the file's bytes", 404, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    tags=TAGS,
)
def content(file_id: str) -> Response:
    """The tenant's file's bytes (JSONL)."""
    record = files().get(file_id, principal().tenant)
    return Response(services().storage.get(record.object_key), mimetype="application/octet-stream")


@operation(
    bp.delete("/<file_id>"),
    answers("{id, object: file, deleted: true}", 404, 503),
    scopes=(Scope.JOBS_WRITE,),
    tags=TAGS,
)
def delete(file_id: str) -> Response:
    """Delete the tenant's file, metadata and bytes."""
    record = files().delete(file_id, principal().tenant)
    writer(current_app).delete_prefix(record.object_key.rsplit("/", 1)[0] + "/")
    return _json({"id": file_id, "object": "file", "deleted": True})
