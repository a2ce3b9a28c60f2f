"""The Host header against the trusted hosts: names compared case-insensitively, IPv6 in brackets.

werkzeug's own check (TRUSTED_HOSTS) compares names case-sensitively and cannot match a bracketed
IPv6 entry such as `[::1]`, so the API checks the header itself (api/guards.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

_HOST = re.compile(r"(?P<host>[a-z0-9.-]+|\[[a-f0-9:.]+\])(?::(?P<port>[0-9]{1,5}))?")


def _bare(name: str) -> str:
    return name.strip().lower().removeprefix("[").removesuffix("]")


def _entry(entry: str) -> str:
    """A trusted-host entry as the bare lowercase name it admits (its port, if any, left off)."""
    return _bare(entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry)


def host_allowed(header: str, trusted: list[str]) -> bool:
    """Whether a Host header (`name`, `name:port`, `[v6]:port`) names one of `trusted`.

    An entry starting with a dot also admits the names under it, as in werkzeug's list.
    """
    return _allowed(header, tuple(_entry(entry) for entry in trusted))


def _allowed(header: str, names: tuple[str, ...]) -> bool:
    found = _HOST.fullmatch(header.strip().lower())
    if found is None or (found["port"] and not 1 <= int(found["port"]) <= 65535):
        return False
    host = _bare(found["host"])
    return any(host == name.lstrip(".") or (name.startswith(".") and host.endswith(name)) for name in names)


class TrustedHosts:
    """`host_allowed` for one list of trusted hosts, normalised once; the last 256 verdicts are remembered."""

    def __init__(self, trusted: list[str]) -> None:
        names = tuple(_entry(entry) for entry in trusted)
        self.allows: Callable[[str], bool] = functools.lru_cache(maxsize=256)(lambda h: _allowed(h, names))
