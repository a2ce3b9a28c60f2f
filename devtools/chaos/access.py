"""The soak's keys: the stack runs with auth on, and the load and the batch act for a tenant of their own.

A tenant of the run's own ("chaos") makes the usage totals the run's alone, and a key per purpose lets
the totals be compared key by key; the batch's key has a small cap on its active jobs, so the runner
enqueues its lines a few at a time and the batch is still running when the faults strike.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

TENANT = "chaos"


@dataclass(frozen=True)
class Key:
    """An API key the soak made: its public id and its bearer header."""

    key_id: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Access:
    """The admin key the stack starts with, and the keys of the load and of the batch."""

    admin: str
    load: Key
    batch: Key


def admin_settings(admin: str) -> dict[str, str]:
    """The LLMB_ settings that turn auth on with `admin` as the admin key."""
    return {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": admin}


def new_admin_key() -> str:
    """A fresh admin key for one run."""
    return secrets.token_urlsafe(32)


def make_key(http: httpx.Client, admin: str, name: str, **caps: int) -> Key:
    """POST /v1/keys for the soak's tenant (RuntimeError unless 201): the key's id and bearer header."""
    body = {"name": name, "tenant": TENANT, **caps}
    answer = http.post("/v1/keys", json=body, headers={"Authorization": f"Bearer {admin}"})
    if answer.status_code != 201:
        raise RuntimeError(f"POST /v1/keys answered {answer.status_code}: {answer.text[:300]}")
    made = answer.json()
    return Key(str(made["id"]), {"Authorization": f"Bearer {made['key']}"})


def open_access(api_url: str, admin: str, *, batch_active: int) -> Access:
    """The load's key (the settings' caps) and the batch's (at most `batch_active` active jobs)."""
    with httpx.Client(base_url=api_url, timeout=10) as http:
        load = make_key(http, admin, "chaos-load")
        batch = make_key(http, admin, "chaos-batch", max_active_jobs=batch_active)
    return Access(admin, load, batch)
