"""API keys as the service sees them: their format, scopes, the principal a request acts as.

A key reads `llmb_<id>_<secret>`: the prefix lets secret scanners find leaked keys, the public id
names a key in logs and listings without its secret, and the secret is 256 random bits
(43 base64url characters). Only SHA-256 of the secret is stored: a fast hash suits a random secret
of this length (no password to guess), and it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from shared.budgets import Budget

PREFIX = "llmb"
_KEY = re.compile(r"\Allmb_([a-z0-9]{12})_([A-Za-z0-9_-]{43})\Z")
_ID = re.compile(r"\Allmb_([a-z0-9]{12})_")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class Scope(StrEnum):
    """What a key may do."""

    JOBS_READ = "jobs:read"  # read, wait on, stream and download its tenant's jobs; list them
    JOBS_WRITE = "jobs:write"  # submit and cancel its tenant's jobs
    QUEUES_READ = "queues:read"  # read the queues' load (what an autoscaler needs, nothing more)
    ADMIN = "admin"  # everything, keys included


DEFAULT_SCOPES = (Scope.JOBS_READ, Scope.JOBS_WRITE)


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the key (by public id), its tenant, scopes and per-key limits."""

    key_id: str
    tenant: str
    scopes: frozenset[Scope]
    jobs_per_minute: int | None = None  # None: the settings' default
    max_active_jobs: int | None = None
    budget: Budget | None = None  # the key's own spending budget, if it has one

    def allows(self, scope: Scope) -> bool:
        """True when the key holds `scope`, or admin."""
        return scope in self.scopes or Scope.ADMIN in self.scopes


# Auth off: everyone is this one principal, and every job belongs to its tenant.
ANONYMOUS = Principal(key_id="anonymous", tenant="anonymous", scopes=frozenset(Scope))


@dataclass(frozen=True)
class NewKey:
    """A key just made: its public id, the whole key (shown once) and the hash to store."""

    key_id: str
    key: str
    secret_hash: str


def new_key() -> NewKey:
    """A fresh random key: a 12-character id and a 256-bit secret."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, f"{PREFIX}_{key_id}_{secret}", hash_secret(secret))


def parse_key(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    found = _KEY.match(token)
    return (found.group(1), found.group(2)) if found else None


def key_id_of(token: str) -> str | None:
    """The public id a malformed or refused token claims, for the log (never the secret)."""
    found = _ID.match(token)
    return found.group(1) if found else None


def hash_secret(secret: str) -> str:
    """SHA-256 of a secret, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time equality of two hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
