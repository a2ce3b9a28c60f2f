"""Keys, scopes and tenants (RELIABILITY.md 16 and 17), with the Flask client and a real Redis."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr
from redis import Redis

from api.openapi import document
from shared.auth import Scope, hash_secret, new_key
from shared.store.apikeys import KeyRecord, KeyStore
from tests.api.conftest import AppFor

ADMIN = "test-admin-key"
IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}}


@pytest.fixture
def secure(app_for: AppFor) -> Flask:
    return app_for(auth="on", admin_key=SecretStr(ADMIN))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def secret_of(key: str) -> str:
    """The secret part of `llmb_<12-character id>_<secret>` (the secret may hold underscores)."""
    return key[len("llmb_") + 12 + 1 :]


def make_key(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/keys", json={"name": "someone", **body}, headers=bearer(ADMIN))
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def submit(client: FlaskClient, key: str) -> dict[str, Any]:
    response = client.post("/v1/jobs", json=IMAGE, headers=bearer(key))
    assert response.status_code == 202, response.get_json()
    job: dict[str, Any] = response.get_json()
    return job


def test_a_created_key_has_the_format_its_secret_once_and_works(secure: Flask) -> None:
    client = secure.test_client()
    made = make_key(client, tenant="team-a")
    assert made["key"].startswith(f"llmb_{made['id']}_")
    assert len(secret_of(made["key"])) == 43  # 256 bits, base64url
    assert (made["tenant"], made["scopes"], made["state"]) == (
        "team-a",
        ["jobs:read", "jobs:write"],
        "active",
    )
    listed = client.get("/v1/keys", headers=bearer(ADMIN)).get_json()["keys"]
    assert [k["id"] for k in listed] == [made["id"]]
    assert all(k["key"] is None for k in listed)  # never shown again
    assert client.get(f"/v1/keys/{made['id']}", headers=bearer(ADMIN)).get_json()["key"] is None
    assert submit(client, made["key"])["status"] == "queued"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "an API key is required"),
        ("Basic dXNlcjpwYXNz", "an API key is required"),
        ("Bearer not-a-key", "malformed"),
        ("Bearer llmb_abcdefghijkl_" + "x" * 43, "not valid"),
    ],
)
def test_a_missing_malformed_or_unknown_key_is_401_with_the_bearer_challenge(
    secure: Flask, header: str | None, why: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = secure.test_client().post("/v1/jobs", json=IMAGE, headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="llmb"'
    assert why in response.get_json()["detail"]


def test_a_wrong_secret_a_revoked_key_and_an_expired_key_are_401(secure: Flask, redis_client: Redis) -> None:
    client = secure.test_client()
    made = make_key(client)
    wrong = made["key"][:-4] + ("AAAA" if not made["key"].endswith("AAAA") else "BBBB")
    assert client.get("/v1/jobs", headers=bearer(wrong)).status_code == 401
    old = new_key()
    KeyStore(redis_client).create(
        KeyRecord(
            id=old.key_id,
            secret_hash=old.secret_hash,
            name="old",
            tenant="old",
            scopes=(Scope.JOBS_READ,),
            created_at=time.time() - 100,
            expires_at=time.time() - 1,
        )
    )
    expired = client.get("/v1/jobs", headers=bearer(old.key))
    assert (expired.status_code, "expired" in expired.get_json()["detail"]) == (401, True)
    assert client.delete(f"/v1/keys/{made['id']}", headers=bearer(ADMIN)).get_json()["state"] == "revoked"
    time.sleep(1.1)  # the key ring caches a record for up to 1 s
    revoked = client.get("/v1/jobs", headers=bearer(made["key"]))
    assert (revoked.status_code, "revoked" in revoked.get_json()["detail"]) == (401, True)


def test_revocation_reaches_another_api_process_within_a_second(app_for: AppFor) -> None:
    one = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    other = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    made = make_key(one)
    assert other.get("/v1/jobs", headers=bearer(made["key"])).status_code == 200  # cached there now
    one.delete(f"/v1/keys/{made['id']}", headers=bearer(ADMIN))
    deadline = time.monotonic() + 1.0
    while other.get("/v1/jobs", headers=bearer(made["key"])).status_code == 200:
        assert time.monotonic() < deadline, "still accepted a second after revocation"
        time.sleep(0.05)


def test_a_key_without_the_scope_is_403(secure: Flask) -> None:
    client = secure.test_client()
    reader = make_key(client, scopes=["jobs:read"])
    refused = client.post("/v1/jobs", json=IMAGE, headers=bearer(reader["key"]))
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    assert "jobs:write" in refused.get_json()["detail"]
    assert client.get("/v1/keys", headers=bearer(reader["key"])).status_code == 403
    assert client.get("/v1/jobs", headers=bearer(reader["key"])).status_code == 200
    scaler = make_key(client, scopes=["queues:read"])
    assert client.get("/v1/queues", headers=bearer(scaler["key"])).status_code == 200
    assert client.get("/v1/jobs", headers=bearer(scaler["key"])).status_code == 403


def test_health_ready_and_the_documents_stay_open(secure: Flask) -> None:
    client = secure.test_client()
    for path in ("/health", "/ready", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path
    assert client.get("/v1/queues").status_code == 401


def test_keys_are_stored_only_as_hashes(secure: Flask, redis_client: Redis) -> None:
    client = secure.test_client()
    secret = secret_of(make_key(client)["key"])
    stored = b"".join(
        b"".join(k + v for k, v in redis_client.hgetall(key).items())
        for key in redis_client.scan_iter("llmb:apikey:*")
        if redis_client.type(key) == b"hash"
    )
    assert secret.encode() not in stored
    assert hash_secret(secret).encode() in stored


def per_job_operations(app: Flask) -> list[tuple[str, str]]:
    """Every operation of the document that names one job: the routes tenancy must cover."""
    doc = document(app, app.extensions["llmb"].settings)
    return [(m, p) for p, ops in doc["paths"].items() if "{job_id}" in p for m in ops]


def test_another_tenant_s_job_answers_exactly_like_an_unknown_id(secure: Flask) -> None:
    client = secure.test_client()
    alice, bob = make_key(client, tenant="a")["key"], make_key(client, tenant="b")["key"]
    job = submit(client, alice)["id"]
    unknown = "00000000-0000-4000-8000-000000000000"
    operations = per_job_operations(secure)
    assert len(operations) >= 5  # get, events, result, result/{index}, cancel
    for method, path in operations:
        answers = []
        for job_id in (job, unknown):
            url = path.replace("{job_id}", job_id).replace("{index}", "0")
            wait = {"wait": "1"} if path == "/v1/jobs/{job_id}" else {}  # the others refuse ?wait (422)
            response = client.open(url, method=method.upper(), headers=bearer(bob), query_string=wait)
            body = response.get_json()
            answers.append((response.status_code, sorted(body), body["detail"].replace(job_id, "ID")))
        assert answers[0] == answers[1], (method, path)
        assert answers[0][0] == 404
    mine = [j["id"] for j in client.get("/v1/jobs", headers=bearer(alice)).get_json()["jobs"]]
    theirs = [j["id"] for j in client.get("/v1/jobs", headers=bearer(bob)).get_json()["jobs"]]
    assert (mine, theirs) == ([job], [])
    assert client.get(f"/v1/jobs/{job}", headers=bearer(alice)).status_code == 200


def test_auth_cannot_be_left_unset_on_an_exposed_bind(app_for: AppFor) -> None:
    with pytest.raises(ValueError, match="LLMB_AUTH"):
        app_for(api_bind="0.0.0.0:8000")
    open_on_purpose = app_for(api_bind="0.0.0.0:8000", auth="off").test_client()
    assert open_on_purpose.post("/v1/jobs", json=IMAGE).status_code == 202
