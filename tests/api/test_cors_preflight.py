"""Issue 18 item 9: with auth on, a browser on a listed origin gets its preflight answered, then calls."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.api.conftest import AppFor

ORIGIN = "https://app.example.com"
ADMIN = "cors-admin-key"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs"),
        ("GET", "/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e/events"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("DELETE", "/v1/keys/abcdefabcdef"),
    ],
)
def test_a_preflight_from_a_listed_origin_is_answered_without_a_key(
    app_for: AppFor, method: str, path: str
) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN), cors_origins=ORIGIN).test_client()
    preflight = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 200, preflight.get_data(as_text=True)
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert method in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    # The call itself still needs its key.
    refused = client.open(path, method=method, headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN  # so the page can read why


def test_a_preflight_from_another_origin_gets_no_cors_grant(app_for: AppFor) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN), cors_origins=ORIGIN).test_client()
    other = client.options(
        "/v1/jobs", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
