"""Where a webhook may go: http(s) to a host whose every address is public, unless opened on purpose.

Checked when the job is submitted and again before each delivery (DNS can change in between: a
name that resolved to a public address may resolve to loopback later), and the delivery connects
to an address that passed the check, never to a name resolved again by the HTTP client.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import InputError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to (getaddrinfo's, by default; tests inject their own)
Resolver = Callable[[str, int], list[str]]
# IANA special-purpose ranges that are not globally reachable, written out because ipaddress's idea of
# "global" depends on the Python release (192.0.0.0/24, 3fff::/20 and 5f00::/16 came late), plus the
# deprecated ranges that may still route inside a network (RFC 3879 site-local, RFC 3701 6bone,
# RFC 7526 6to4 relay anycast). ipaddress's flags refuse the rest.
_NOT_GLOBAL = {
    reason: [ipaddress.ip_network(n) for n in nets.split()]
    for reason, nets in {
        "carrier-grade NAT": "100.64.0.0/10",
        "IETF protocol assignments": "192.0.0.0/24 2001::/23",
        "documentation": "192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32 3fff::/20",
        "benchmarking": "198.18.0.0/15 2001:2::/48",
        "reserved": "240.0.0.0/4 5f00::/16 100::/64 64:ff9b:1::/48",
        "site-local": "fec0::/10",
        "deprecated": "3ffe::/16 192.88.99.0/24",
    }.items()
}
# What a refused webhook's error says: never the addresses, so a tenant cannot map internal names.
NOT_PUBLIC = "must reach a public address; its host does not resolve to one"


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: its parts and the addresses the delivery may connect to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolves `host` to (numeric spellings like 2130706433 included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_nets(text: str) -> list[Network]:
    """Comma-separated CIDRs (LLMB_WEBHOOK_ALLOW_NETS) as networks; ValueError for a bad one."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def refusal(address: Address, allowed: list[Network]) -> str | None:
    """Why a webhook may not connect to `address` (None: it may): internal ranges unless allowed."""
    if any(address in net for net in allowed):
        return None
    inner = _embedded_ipv4(address)
    if inner is not None:
        return refusal(inner, allowed)
    for reason, nets in _NOT_GLOBAL.items():
        if any(address.version == net.version and address in net for net in nets):
            return reason
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
        ("reserved", address.is_reserved or not address.is_global),
    ):
        if flag:
            return reason
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped or address.sixtofour
    return None


def check_url(url: str, *, allowed: list[Network], resolve: Resolver = system_resolver) -> Target:
    """The checked target of a webhook URL; InputError naming `webhook.url` when it may not be called."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused(url, "must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise _refused(url, "must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _refused(url, "has a port out of range") from exc
    try:
        found = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(parts.hostname, port)]
    except (OSError, ValueError) as exc:  # the same words as an internal host: no oracle of names
        raise _refused(url, f"{NOT_PUBLIC}; {ALLOW_NETS_HINT}") from exc
    usable = [a for a in found if refusal(a, allowed) is None]
    if not usable:
        raise _refused(url, f"{NOT_PUBLIC}; {ALLOW_NETS_HINT}")
    return Target(url, parts.scheme, parts.hostname, port, tuple(str(a) for a in usable))


def _refused(url: str, message: str) -> InputError:
    return InputError(
        f"the webhook URL {url!r} {message}", errors=[{"field": "webhook.url", "message": message}]
    )


# Said with every refused address: how a receiver on this machine or a private network is let in.
ALLOW_NETS_HINT = (
    "to test with a receiver on this machine or a private network, start the API and the webhook "
    "sender with LLMB_WEBHOOK_ALLOW_NETS set to its network (e.g. 127.0.0.0/8)"
)
