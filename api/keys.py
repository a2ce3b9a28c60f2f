"""/v1/keys: API keys for the admin scope: create (the secret shown once), list, read, revoke."""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from typing import Annotated, Any

from flask import Blueprint, Response, request, url_for
from pydantic import BaseModel, Field

from api.operations import operation
from api.services import services
from api.spec import json_answer, query
from shared import ids
from shared.auth import DEFAULT_SCOPES, Scope, new_key
from shared.budgets import Period, period_end
from shared.errors import InputError, NotFoundError
from shared.inputs import InputSchema, Text
from shared.store.apikeys import KeyRecord
from shared.views import iso

bp = Blueprint("keys", __name__, url_prefix="/v1/keys")

Tenant = Annotated[str, Field(pattern=f"^{ids.TENANT.pattern}$")]


class BudgetSpec(InputSchema):
    """A key's spending budget per UTC day or month; past it, its submissions get 429 budget_exceeded."""

    device_s: float | None = Field(default=None, gt=0, le=1e9, description="device seconds per period")
    tokens: int | None = Field(default=None, gt=0, le=10**12, description="prompt + completion tokens")
    period: Period = Field(default="month", description="day or month (UTC); the budget resets as it ends")


class SpendView(BaseModel):
    """What the key used in its budget's period (or this month, without a budget)."""

    period: Period
    device_s: float
    tokens: int
    resets_at: str = Field(description="RFC 3339 UTC: when the period ends")
    alerted_at: str | None = Field(
        default=None, description="RFC 3339 UTC: when the spend first reached 80 % of a cap this period"
    )


class KeyCreate(InputSchema):
    """Body of POST /v1/keys."""

    name: Annotated[Text, Field(min_length=1, max_length=100)] = Field(description="who or what uses it")
    tenant: Tenant | None = Field(default=None, description="whose jobs it sees (default: the name)")
    scopes: list[Scope] = Field(default=list(DEFAULT_SCOPES), min_length=1, description="what it may do")
    expires_in_s: int | None = Field(
        default=None,
        gt=0,
        le=10 * 365 * 86400,
        description="refused after this many seconds (up to 10 years)",
    )
    jobs_per_minute: int | None = Field(
        default=None, gt=0, le=1_000_000, description="its submission rate (default: settings)"
    )
    max_active_jobs: int | None = Field(
        default=None, gt=0, le=1_000_000, description="its queued + running cap (default: settings)"
    )
    budget: BudgetSpec | None = Field(default=None, description="its spending budget (default: none)")


class KeyView(BaseModel):
    """An API key as the API shows it: never its secret, except `key` once, when it is created."""

    id: str = Field(description="public id, also inside the key: llmb_<id>_<secret>")
    key: str | None = Field(
        default=None, description="the whole key; shown only in the answer that creates it"
    )
    name: str
    tenant: str
    scopes: list[Scope]
    state: str = Field(description="active, revoked or expired")
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None = Field(description="updated at most once a minute")
    jobs_per_minute: int | None
    max_active_jobs: int | None
    budget: dict[str, Any] | None = Field(default=None, description="device_s, tokens, period")
    spend: SpendView | None = Field(default=None, description="read one key to see it")


class KeyList(BaseModel):
    """Every key (of one tenant when asked)."""

    keys: list[KeyView]


def render_key(record: KeyRecord, *, key: str | None = None, spend: SpendView | None = None) -> KeyView:
    """The client's view of a key record (`key` only right after creating it)."""
    state = (
        "revoked" if record.revoked_at is not None else "active" if record.usable(time.time()) else "expired"
    )
    return KeyView(
        id=record.id,
        key=key,
        name=record.name,
        tenant=record.tenant,
        scopes=list(record.scopes),
        state=state,
        created_at=iso(record.created_at) or "",
        expires_at=iso(record.expires_at),
        revoked_at=iso(record.revoked_at),
        last_used_at=iso(record.last_used_at),
        jobs_per_minute=record.jobs_per_minute,
        max_active_jobs=record.max_active_jobs,
        budget=asdict(record.budget) if record.budget else None,
        spend=spend,
    )


def _json(view: BaseModel, status: int = 200) -> Response:
    return Response(view.model_dump_json(exclude_none=False), status=status, mimetype="application/json")


@operation(
    bp.post(""),
    {201: json_answer("the key, with its secret (shown once)", "KeyView")},
    scopes=(Scope.ADMIN,),
    problems=(401, 403, 503),
    body=KeyCreate,
)
def create(body: KeyCreate) -> Response:
    """Create a key; its secret is in this answer only; 400, 401, 403, 413, 415, 422, 503."""
    svc = services()
    made, now = new_key(), time.time()
    record = KeyRecord(
        id=made.key_id,
        secret_hash=made.secret_hash,
        name=body.name,
        tenant=body.tenant or _tenant_from(body.name, made.key_id),
        scopes=tuple(dict.fromkeys(body.scopes)),
        created_at=now,
        expires_at=now + body.expires_in_s if body.expires_in_s else None,
        jobs_per_minute=body.jobs_per_minute,
        max_active_jobs=body.max_active_jobs,
        budget_device_s=body.budget.device_s if body.budget else None,
        budget_tokens=body.budget.tokens if body.budget else None,
        budget_period=body.budget.period if body.budget else None,
    )
    svc.keys.create(record)
    response = _json(render_key(record, key=made.key), 201)
    response.headers["Location"] = url_for("keys.get", key_id=record.id)
    return response


# The built-in principals' tenants: a key shares one only when its `tenant` names it.
RESERVED_TENANTS = frozenset({"admin", "autoscaler", "anonymous"})


def _tenant_from(name: str, key_id: str) -> str:
    """A tenant made from a key's name: its ASCII letters (lowercased) and digits, a dash for the rest.

    A name with none of them ("日本") gives `key-<id>`; one that would land in a built-in tenant
    ("Admin") gets `-<id>` added, so only an explicit `tenant` shares the admin's jobs.
    """
    slug = re.sub(r"[^a-z0-9]", "-", name.lower()).strip("-")[:64].strip("-")
    tenant = f"{slug}-{key_id}" if slug in RESERVED_TENANTS else slug or f"key-{key_id}"
    if not ids.is_tenant(tenant):  # the derivation above keeps to the pattern; say so if it ever does not
        raise AssertionError(f"derived tenant {tenant!r} is outside the tenant pattern")
    return tenant


@operation(
    bp.get(""),
    {200: json_answer("the keys", "KeyList")},
    scopes=(Scope.ADMIN,),
    problems=(401, 403, 422, 503),
    params=(query("tenant", {"type": "string", "pattern": f"^{ids.TENANT.pattern}$"}, "only its keys"),),
)
def list_keys() -> Response:
    """Every key, oldest first, never their secrets; 401, 403, 422 for a malformed tenant, 503."""
    tenant = request.args.get("tenant")
    if tenant is not None and not ids.is_tenant(tenant):
        message = "must be a tenant: lowercase letters, digits and _.- (64 at most)"
        raise InputError(f"tenant {message}", errors=[{"field": "tenant", "message": message}])
    records = services().keys.list(tenant=tenant)
    return _json(KeyList(keys=[render_key(r) for r in records]))


@operation(
    bp.get("/<key_id>"),
    {200: json_answer("the key", "KeyView")},
    scopes=(Scope.ADMIN,),
    problems=(401, 403, 404, 503),
)
def get(key_id: str) -> Response:
    """One key, never its secret; 401, 403, 404, 503."""
    record = services().keys.get(key_id)
    if record is None:
        raise NotFoundError(f"no key {key_id}")
    return _json(render_key(record, spend=_spend(record)))


def _spend(record: KeyRecord) -> SpendView:
    """The key's spend in its budget's period (this month without a budget)."""
    period: Period = record.budget.period if record.budget else "month"
    now = time.time()
    spent = services().store.spend([("key", record.id, period)], now)[0]
    return SpendView(
        period=period,
        device_s=spent.device_s,
        tokens=spent.tokens,
        resets_at=iso(period_end(period, now)) or "",
        alerted_at=iso(spent.alerted_at),
    )


@operation(
    bp.delete("/<key_id>"),
    {200: json_answer("the key, revoked", "KeyView")},
    scopes=(Scope.ADMIN,),
    problems=(401, 403, 404, 503),
)
def revoke(key_id: str) -> Response:
    """Revoke a key: every API process refuses it within a second; 401, 403, 404, 503."""
    return _json(render_key(services().keys.revoke(key_id)))
