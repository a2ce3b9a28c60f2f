"""POST /v1/images/generations: an image job answered as OpenAI's {created, data}, URLs or base64 PNGs."""

from __future__ import annotations

import base64
import re
from typing import Any

from flask import Blueprint, Response

from api.caller import base_url
from api.headers import CREATE_HEADERS
from api.openai.catalog import find_model
from api.openai.errors import TAGS, WRITE_ERRORS, InvalidRequestError, answers
from api.openai.jobs import answer, finished, job_input, read_request, submit
from api.openai.schemas import ImagesRequest
from api.operations import operation
from api.services import Services, services
from shared.auth import Scope
from shared.job_record import JobRecord, JobType

bp = Blueprint("images", __name__, url_prefix="/images")

ROUTE = "/v1/images/generations"
_SIZE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")
# The job input's names for OpenAI's (errors name the field the client sent).
RENAME = {"num_images": "n", "width": "size", "height": "size"}


@operation(
    bp.post("/generations"),
    answers("created, and data: one url or b64_json per image", *WRITE_ERRORS),
    scopes=(Scope.JOBS_WRITE,),
    params=CREATE_HEADERS,
    tags=TAGS,
)
def generate() -> Response:
    """Images from a prompt, as OpenAI's {created, data}; X-Job-Id names the job."""
    svc = services()
    body = read_request(ImagesRequest, svc.settings.limits)
    find_model(svc.settings, body.model, JobType.IMAGE)
    image = job_input(JobType.IMAGE, _input(body), svc.settings.limits, rename=RENAME)
    wait_s = svc.settings.openai_wait_s
    done = submit(svc, ROUTE, JobType.IMAGE, image, wait_s=wait_s)
    record = finished(svc, done, wait_s, param="prompt")
    return answer(images(svc, record, b64=body.response_format == "b64_json"), done)


def _input(body: ImagesRequest) -> dict[str, Any]:
    """The image job's input: OpenAI's size and n, and the extensions as they are."""
    data: dict[str, Any] = {"prompt": body.prompt}
    if body.size not in (None, "auto"):
        found = _SIZE.fullmatch(body.size)
        if found is None:
            raise InvalidRequestError(f"size must be WIDTHxHEIGHT or auto, not {body.size!r}", param="size")
        data["width"], data["height"] = int(found.group(1)), int(found.group(2))
    extensions: dict[str, Any] = {
        "num_images": body.n,
        "seed": body.seed,
        "negative_prompt": body.negative_prompt,
    }
    extensions |= {"steps": body.steps, "guidance_scale": body.guidance_scale}
    data.update({k: v for k, v in extensions.items() if v is not None})
    return data


def images(svc: Services, record: JobRecord, *, b64: bool) -> dict[str, Any]:
    """A succeeded image job's PNGs in base64, or as URLs: presigned, else the job's result route."""
    files = (record.result or {}).get("files", [])
    if b64:
        data = [{"b64_json": base64.b64encode(svc.storage.get(f["key"])).decode("ascii")} for f in files]
    else:
        base = base_url(svc.settings.public_url)
        data = [
            {
                "url": svc.storage.presigned_url(f["key"], content_type=f["content_type"])
                or f"{base}/v1/jobs/{record.id}/result/{i}"
            }
            for i, f in enumerate(files)
        ]
    return {"created": int(record.created_at), "data": data, "output_format": "png"}
