"""One webhook POST to an address that was checked: no DNS when connecting, no redirects, a short read.

The URL the HTTP client sees holds the checked IP, so it connects there and nowhere else (a name
that resolves elsewhere a moment later changes nothing); the Host header, and for https the TLS
server name (SNI, also the name the certificate is verified for), carry the original host.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from shared.webhook_targets import Target
from webhooks import policy
from webhooks.bounds import Watchdog
from webhooks.policy import Answer

# Of the answer, at most this much is read (and nothing kept): receivers have nothing to tell us.
MAX_ANSWER_BYTES = 4096
# A host with many addresses: the first few that accept a connection are tried, in order.
MAX_ADDRESSES = 3


def client(timeout_s: float) -> httpx.Client:
    """The HTTP client for deliveries: short timeouts, no proxies from the environment, no pooling."""
    # No keep-alive: a pooled connection is keyed by IP, and must never carry another host's delivery.
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def pinned_url(target: Target, address: str) -> str:
    """The target's URL with its host replaced by `address` (bracketed when IPv6) and the port explicit."""
    parts = urlsplit(target.url)
    host = f"[{address}]" if ":" in address else address
    return urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def post(
    http: httpx.Client, target: Target, *, body: bytes, headers: dict[str, str], deadline_s: float
) -> Answer:
    """POST `body` to the target, trying its next checked address only when one refuses to connect.

    The whole attempt (connects, sending, the answer's head and what is read of its body) ends
    within `deadline_s` seconds, however slowly the receiver answers.
    """
    started = time.monotonic()
    failure = "no address to connect to"
    with Watchdog(deadline_s) as watchdog:
        for address in target.addresses[:MAX_ADDRESSES]:
            try:
                return _post_to(http, target, address, body=body, headers=headers, watchdog=watchdog)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = f"cannot connect to {address}: {_text(exc)}"
            except httpx.TimeoutException as exc:
                return Answer(error=f"timed out: {_text(exc)}", transient=True, duration_ms=_ms(started))
            except httpx.TransportError as exc:
                failure = f"connection failed: {_text(exc)}"
                break
    if watchdog.fired:
        failure = f"timed out: no whole answer within the attempt's deadline of {deadline_s:g} s"
    return Answer(error=failure, transient=True, duration_ms=_ms(started))


def _post_to(
    http: httpx.Client,
    target: Target,
    address: str,
    *,
    body: bytes,
    headers: dict[str, str],
    watchdog: Watchdog,
) -> Answer:
    started = watchdog.started
    extensions: dict[str, object] = {"trace": watchdog.trace}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    request = http.build_request(
        "POST",
        pinned_url(target, address),
        content=body,
        headers={**headers, "Host": urlsplit(target.url).netloc},
        extensions=extensions,
    )
    response = http.send(request, stream=True, follow_redirects=False)
    try:
        _drain(response)
    finally:
        response.close()
    return Answer(
        status_code=response.status_code,
        retry_after_s=_retry_after(response),
        duration_ms=_ms(started),
    )


def _drain(response: httpx.Response) -> None:
    """Read a little of the answer; once its status came, a body that stalls or breaks changes nothing."""
    read = 0
    try:
        for chunk in response.iter_raw(1024):
            read += len(chunk)
            if read >= MAX_ANSWER_BYTES:
                return
    except httpx.TransportError:
        return


def _retry_after(response: httpx.Response) -> float | None:
    return policy.retry_after_s(response.headers.get("Retry-After"))


def _text(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__)[:200]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
