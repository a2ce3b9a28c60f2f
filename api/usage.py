"""GET /v1/usage: what jobs used between two times, summed by tenant, key or job type, from hourly totals."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field

from api.auth import principal
from api.operations import operation
from api.services import services
from api.spec import json_answer, query
from shared.auth import Scope
from shared.errors import InputError
from shared.store.usage import UsageRow
from shared.views import iso

bp = Blueprint("usage", __name__, url_prefix="/v1/usage")

GROUPS = ("tenant", "key", "type")
MAX_SPAN_S = 366 * 24 * 3600
_TIME = {"type": "string", "format": "date-time"}


class UsageGroup(BaseModel):
    """One group's totals over the range; the names it is grouped by, the others null."""

    tenant: str | None = None
    key_id: str | None = None
    type: str | None = None
    jobs: int = Field(default=0, description="jobs that ended (succeeded or failed) on a worker")
    device_s: float = Field(default=0.0, description="their share of their batches' device time, seconds")
    prompt_tokens: int = Field(default=0, description="chat prompts' and embed inputs' tokens")
    completion_tokens: int = Field(default=0, description="chat replies' tokens")
    images: int = 0
    pixel_steps: int = Field(default=0, description="width × height × steps, summed over images")


class UsageReport(BaseModel):
    """The totals of the whole hours from `from` up to `to`, by group."""

    from_: str = Field(alias="from", description="RFC 3339 UTC, the first hour counted (rounded down)")
    to: str = Field(description="RFC 3339 UTC, the end of the last hour counted (rounded up)")
    group_by: str
    groups: list[UsageGroup]


@operation(
    bp.get(""),
    {200: json_answer("the totals by group", "UsageReport")},
    scopes=(Scope.JOBS_READ,),
    problems=(401, 403, 422, 503),
    params=(
        query("from", _TIME, "RFC 3339 time (or a date): default 24 hours before `to`, at most 366 days"),
        query("to", _TIME, "RFC 3339 time (or a date): default now; after `from`"),
        query("group_by", {"enum": list(GROUPS)}, "how to sum (default tenant)"),
        query("tenant", {"type": "string"}, "admin only: one tenant's usage"),
    ),
)
def usage() -> Response:
    """Usage by tenant, key or type: a key sees its tenant's, admin everyone's; 401, 403, 422, 503."""
    first, last, group_by = _query()
    who = principal()
    tenant = request.args.get("tenant") if Scope.ADMIN in who.scopes else who.tenant
    rows = services().store.usage_rows(first, last, tenant=tenant)
    report = UsageReport(
        **{"from": iso(first * 3600.0) or ""},
        to=iso((last + 1) * 3600.0) or "",
        group_by=group_by,
        groups=summed(rows, group_by),
    )
    return Response(report.model_dump_json(by_alias=True), mimetype="application/json")


def summed(rows: list[UsageRow], group_by: str) -> list[UsageGroup]:
    """The rows' amounts summed per group, groups in name order."""
    totals: dict[tuple[str, ...], dict[str, float]] = {}
    for row in rows:
        name = {"tenant": (row.tenant,), "key": (row.tenant, row.key_id), "type": (row.job_type,)}[group_by]
        group = totals.setdefault(name, {})
        group[row.measure] = group.get(row.measure, 0.0) + row.amount
    groups = []
    for name, amounts in sorted(totals.items()):
        names = dict(zip(_NAMES[group_by], name, strict=True))
        counted = {k: v if k == "device_s" else round(v) for k, v in amounts.items() if k in _MEASURES}
        groups.append(UsageGroup.model_validate(names | counted))
    return groups


_NAMES = {"tenant": ("tenant",), "key": ("tenant", "key_id"), "type": ("type",)}
_MEASURES = set(UsageGroup.model_fields) - {"tenant", "key_id", "type"}


def _query() -> tuple[int, int, str]:
    """The first and last hour (epoch s // 3600) and the grouping asked for; InputError naming the field."""
    now = time.time()
    end = _time("to", now)
    start = _time("from", end - 24 * 3600)
    if not 0 <= end - start <= MAX_SPAN_S:
        raise _bad("from", "must be before `to`, by at most 366 days")
    group_by = request.args.get("group_by", "tenant")
    if group_by not in GROUPS:
        raise _bad("group_by", f"must be one of {', '.join(GROUPS)}")
    return int(start // 3600), max(int(start // 3600), math.ceil(end / 3600) - 1), group_by


def _time(name: str, default: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        raise _bad(name, "must be an RFC 3339 time (2026-01-31T12:00:00Z) or a date") from None


def _bad(field: str, message: str) -> InputError:
    return InputError(f"{field} {message}", errors=[{"field": field, "message": message}])
