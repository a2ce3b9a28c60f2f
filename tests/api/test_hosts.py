"""The per-app trusted-host check answers as `host_allowed` does, its remembered verdicts included."""

from __future__ import annotations

import pytest

from api.hosts import TrustedHosts, host_allowed

TRUSTED = ["api.example.com:8000", ".internal", "[::1]", "127.0.0.1"]
HEADERS = [
    "api.example.com",
    "API.Example.COM:8000",
    "evil.example.com",
    "svc.internal",
    "internal",
    "[::1]:8000",
    "[::2]",
    "127.0.0.1:99999",
    "127.0.0.1:80",
    "",
    "a b",
]


@pytest.mark.parametrize("header", HEADERS)
def test_a_verdict_is_host_allowed_s_and_stays_so_when_asked_again(header: str) -> None:
    hosts = TrustedHosts(TRUSTED)
    expected = host_allowed(header, TRUSTED)
    assert [hosts.allows(header), hosts.allows(header)] == [expected, expected]


def test_each_list_keeps_its_own_verdicts() -> None:
    assert TrustedHosts(["localhost"]).allows("localhost")
    assert not TrustedHosts(["127.0.0.1"]).allows("localhost")
