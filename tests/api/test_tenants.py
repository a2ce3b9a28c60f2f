"""Issue 18 item 10: a key shares the admin's tenant only when asked; every tenant fits its pattern."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from shared import ids
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, IMAGE, bearer

# What a key's name may hold: printable text of any script (control characters are refused).
RESERVED_TENANTS = {"admin", "autoscaler", "anonymous"}  # the built-in principals'
NAMES = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=100)


def _create(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/keys", json=body, headers=bearer(ADMIN))
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


@pytest.mark.parametrize("name", ["Admin", "ADMIN", " admin ", "admin!", "Anonymous", "autoscaler", "ADMİN"])
def test_a_key_named_like_a_builtin_tenant_does_not_see_its_jobs(app_for: AppFor, name: str) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    admins = client.post("/v1/jobs", json=IMAGE, headers=bearer(ADMIN)).get_json()["id"]
    key = _create(client, name=name)
    assert key["tenant"] not in RESERVED_TENANTS
    assert client.get(f"/v1/jobs/{admins}", headers=bearer(key["key"])).status_code == 404
    assert client.get("/v1/jobs", headers=bearer(key["key"])).get_json()["jobs"] == []


def test_an_explicit_tenant_still_shares_on_purpose(app_for: AppFor) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    admins = client.post("/v1/jobs", json=IMAGE, headers=bearer(ADMIN)).get_json()["id"]
    key = _create(client, name="ops robot", tenant="admin")
    assert client.get(f"/v1/jobs/{admins}", headers=bearer(key["key"])).status_code == 200


def test_any_name_gives_a_tenant_within_the_pattern(app_for: AppFor) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()

    @given(name=NAMES)
    @example(name="Café")
    @example(name="日本語")
    @example(name="Ｔｅａｍ")  # fullwidth letters: isalnum, but not ASCII
    @example(name="-" * 100)
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def check(name: str) -> None:
        response = client.post("/v1/keys", json={"name": name}, headers=bearer(ADMIN))
        if response.status_code == 422:  # a name the schema refuses (blank, too long)
            return
        tenant = response.get_json()["tenant"]
        assert ids.is_tenant(tenant), (name, tenant)
        assert tenant not in RESERVED_TENANTS

    check()
