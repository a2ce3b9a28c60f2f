"""/v1/files through the app: upload, read, download, list, delete, caps and tenancy."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from api.openapi import document
from shared.limits import Limits
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key

LINE = b'{"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"input": "hi"}}\n'


@pytest.fixture
def secure(app_for: AppFor) -> Flask:
    return app_for(
        auth="on", admin_key=SecretStr(ADMIN), limits=Limits(file_max_bytes=4096, batch_max_lines=3)
    )


def upload(client: FlaskClient, key: str, data: bytes, **form: Any) -> Any:
    fields = {"purpose": "batch", "file": (io.BytesIO(data), "in.jsonl"), **form}
    return client.post("/v1/files", data=fields, headers=bearer(key), content_type="multipart/form-data")


def test_a_file_is_uploaded_read_listed_downloaded_and_deleted(secure: Flask) -> None:
    client = secure.test_client()
    key = make_key(client)["key"]
    made = upload(client, key, LINE * 2)
    assert made.status_code == 200, made.get_json()
    file = made.get_json()
    assert (file["object"], file["bytes"], file["filename"], file["purpose"]) == (
        "file",
        2 * len(LINE),
        "in.jsonl",
        "batch",
    )
    assert client.get(f"/v1/files/{file['id']}", headers=bearer(key)).get_json() == file
    assert client.get(f"/v1/files/{file['id']}/content", headers=bearer(key)).data == LINE * 2
    listed = client.get("/v1/files", headers=bearer(key)).get_json()
    assert ([f["id"] for f in listed["data"]], listed["has_more"]) == ([file["id"]], False)
    gone = client.delete(f"/v1/files/{file['id']}", headers=bearer(key))
    assert gone.get_json() == {"id": file["id"], "object": "file", "deleted": True}
    assert client.get(f"/v1/files/{file['id']}/content", headers=bearer(key)).status_code == 404
    assert client.get("/v1/files", headers=bearer(key)).get_json()["data"] == []


def test_files_list_pages_with_after(secure: Flask) -> None:
    client = secure.test_client()
    key = make_key(client)["key"]
    ids = [upload(client, key, LINE).get_json()["id"] for _ in range(3)]
    first = client.get("/v1/files?limit=2", headers=bearer(key)).get_json()
    assert (first["has_more"], len(first["data"])) == (True, 2)
    rest = client.get(f"/v1/files?limit=2&after={first['last_id']}", headers=bearer(key)).get_json()
    assert sorted(f["id"] for f in first["data"] + rest["data"]) == sorted(ids)
    assert rest["has_more"] is False


def test_a_file_may_be_bigger_than_a_json_body(app_for: AppFor) -> None:
    # A file is held to LLMB_LIMITS__FILE_MAX_BYTES, not to the body cap of every other request.
    app = app_for(
        auth="on",
        admin_key=SecretStr(ADMIN),
        limits=Limits(max_body_bytes=1024, file_max_bytes=8192, batch_max_lines=1000),
    )
    client = app.test_client()
    key = make_key(client)["key"]
    made = upload(client, key, LINE * (2048 // len(LINE) + 1))
    assert made.status_code == 200, made.get_json()
    assert made.get_json()["bytes"] > 2048
    over = upload(client, key, LINE * (9000 // len(LINE) + 1))
    assert over.status_code == 413, over.get_json()


@pytest.mark.parametrize(
    ("data", "form", "status", "param"),
    [
        (LINE, {"purpose": "fine-tune"}, 400, "purpose"),
        (b"\n\n", {}, 400, "file"),
        (LINE * 4, {}, 400, "file"),  # past batch_max_lines
        (b"x" * 5000, {}, 413, None),  # past file_max_bytes
    ],
)
def test_a_bad_upload_names_its_field(
    secure: Flask, data: bytes, form: dict[str, str], status: int, param: str | None
) -> None:
    client = secure.test_client()
    key = make_key(client)["key"]
    refused = upload(client, key, data, **form)
    assert refused.status_code == status, refused.get_json()
    assert refused.get_json()["error"]["param"] == param


def test_a_json_body_is_still_capped_and_a_form_is_refused_elsewhere(secure: Flask) -> None:
    client = secure.test_client()
    key = make_key(client)["key"]
    form = client.post("/v1/jobs", data={"a": "b"}, headers=bearer(key), content_type="multipart/form-data")
    assert form.status_code == 415


def test_another_tenant_s_file_or_batch_answers_like_an_unknown_id(secure: Flask) -> None:
    client = secure.test_client()
    alice, bob = make_key(client, tenant="a")["key"], make_key(client, tenant="b")["key"]
    file_id = upload(client, alice, LINE).get_json()["id"]
    doc = document(secure, secure.extensions["llmb"].settings)
    operations = [(m, p) for p, ops in doc["paths"].items() if "{file_id}" in p for m in ops]
    assert len(operations) >= 3  # get, content, delete
    for method, path in operations:
        answers = []
        for fid in (file_id, "file-unknown"):
            response = client.open(path.replace("{file_id}", fid), method=method.upper(), headers=bearer(bob))
            error = response.get_json()["error"]
            answers.append((response.status_code, error["message"].replace(fid, "ID"), error["code"]))
        assert answers[0] == answers[1], (method, path)
        assert answers[0][0] == 404
    assert client.get("/v1/files", headers=bearer(bob)).get_json()["data"] == []
    assert client.get(f"/v1/files/{file_id}", headers=bearer(alice)).status_code == 200


def test_another_tenant_s_batch_answers_like_an_unknown_id(secure: Flask) -> None:
    client = secure.test_client()
    alice, bob = make_key(client, tenant="a")["key"], make_key(client, tenant="b")["key"]
    file_id = upload(client, alice, LINE).get_json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/embeddings", "completion_window": "24h"}
    refused = client.post("/v1/batches", json=body, headers=bearer(bob))
    assert (refused.status_code, refused.get_json()["error"]["param"]) == (404, None)
    batch = client.post("/v1/batches", json=body, headers=bearer(alice)).get_json()
    assert (batch["object"], batch["status"], batch["request_counts"]["total"]) == ("batch", "validating", 0)
    doc = document(secure, secure.extensions["llmb"].settings)
    operations = [(m, p) for p, ops in doc["paths"].items() if "{batch_id}" in p for m in ops]
    assert len(operations) >= 2  # get, cancel
    for method, path in operations:
        answers = []
        for bid in (batch["id"], "batch_unknown"):
            response = client.open(
                path.replace("{batch_id}", bid), method=method.upper(), headers=bearer(bob)
            )
            error = response.get_json()["error"]
            answers.append((response.status_code, error["message"].replace(bid, "ID"), error["code"]))
        assert answers[0] == answers[1], (method, path)
        assert answers[0][0] == 404
    assert client.get("/v1/batches", headers=bearer(bob)).get_json()["data"] == []
    mine = client.get("/v1/batches", headers=bearer(alice)).get_json()["data"]
    assert [b["id"] for b in mine] == [batch["id"]]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"endpoint": "/v1/completions"}, "endpoint"),
        ({"completion_window": "1h"}, "completion_window"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_batch_names_its_field(secure: Flask, change: dict[str, Any], param: str) -> None:
    client = secure.test_client()
    key = make_key(client)["key"]
    file_id = upload(client, key, LINE).get_json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/embeddings", "completion_window": "24h", **change}
    refused = client.post("/v1/batches", json=body, headers=bearer(key))
    assert (refused.status_code, refused.get_json()["error"]["param"]) == (400, param)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"\r".join([LINE.rstrip()] * 4) + b"\n", 200),  # one "\n"-ended line: 1 request to the runner
        (LINE.replace(b"\n", b"\r\n") * 3 + b"\r\n  \n", 200),  # 3 requests, then a blank line
        (LINE.replace(b"\n", b"\r\n") * 4, 400),  # 4 requests, past batch_max_lines (3)
    ],
)
def test_an_upload_counts_its_requests_as_the_batch_runner_reads_them(
    secure: Flask, data: bytes, status: int
) -> None:
    # One request a non-blank "\n"-ended line (api/batches/lines.py:nonblank): a lone "\r" ends no
    # request, so the cap is not met by lines the runner would read as one.
    client = secure.test_client()
    answer = upload(client, make_key(client)["key"], data)
    assert answer.status_code == status, answer.get_json()
    if status == 200:
        assert answer.get_json()["bytes"] == len(data)
    else:
        assert answer.get_json()["error"]["code"] == "too_many_requests"
