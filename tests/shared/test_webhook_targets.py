"""Issue 18 item 8: a webhook reaches only global addresses, and a refusal never names an address."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared.errors import InputError
from shared.webhook_targets import Address, check_url, refusal

# IANA's special-purpose ranges that are not globally reachable, and deprecated ones that may route inside.
INTERNAL = [
    "fec0::1",  # site-local (deprecated, RFC 3879): ipaddress counts it as global
    "feff:ffff::1",
    "3ffe:1::1",  # 6bone (returned, RFC 3701)
    "192.88.99.1",  # 6to4 relay anycast (deprecated, RFC 7526)
    "100.64.0.1",
    "fd00::1",
    "fe80::1",
    "::1",
    "::",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2001::1",  # Teredo
    "2001:db8::1",
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    "::10.0.0.1",  # IPv4-compatible (deprecated)
    "100::1",
    "198.18.0.1",
    "240.0.0.1",
    "0.1.2.3",
    "192.0.0.8",
    "ff02::1",
    "224.0.0.1",
]


@pytest.mark.parametrize("address", INTERNAL)
def test_every_internal_and_deprecated_range_is_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), []) is not None


@given(st.ip_addresses())
@example(ipaddress.ip_address("fec0::1"))
@example(ipaddress.ip_address("2002:c000:0204::1"))
def test_an_address_a_webhook_may_reach_is_global_and_not_deprecated(address: Address) -> None:
    if refusal(address, []) is not None:
        return
    assert address.is_global
    assert not getattr(address, "is_site_local", False)
    inner = address.ipv4_mapped or address.sixtofour if address.version == 6 else None  # type: ignore[union-attr]
    assert inner is None or inner.is_global


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_judged_the_same_inside_ipv6(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert (refusal(mapped, []) is None) == (refusal(address, []) is None)


@pytest.mark.parametrize("address", ["fd00::1", "10.1.2.3", "fec0::1", "127.0.0.1"])
def test_a_refusal_does_not_name_the_address_the_host_resolved_to(address: str) -> None:
    with pytest.raises(InputError) as refused:
        check_url("https://intranet.example.com/", allowed=[], resolve=lambda host, port: [address])
    said = f"{refused.value} {refused.value.errors}"
    assert address not in said
    assert str(ipaddress.ip_address(address)) not in said


def test_a_name_that_does_not_resolve_reads_as_one_that_resolves_inside() -> None:
    def unresolvable(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    def inside(host: str, port: int) -> list[str]:
        return ["10.0.0.1"]

    said = []
    for resolve in (unresolvable, inside):
        with pytest.raises(InputError) as refused:
            check_url("https://db.internal/", allowed=[], resolve=resolve)
        said.append(refused.value.errors)
    assert said[0] == said[1]
