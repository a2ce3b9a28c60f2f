from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from flask.testing import FlaskClient
from redis import Redis

from api.services import Services
from devtools.stack.process import Service
from shared.job_record import JobType
from shared.storage import open_storage, result_key
from tests.api.conftest import AppFor
from tests.conftest import s3_settings_for

IMAGE = '{"type":"image","input":{"prompt":"a red fox","width":64,"height":64,"steps":1,"num_images":2}}'


def finish(services: Services, job_id: str, files: list[bytes]) -> None:
    """Do what a worker does: store the files, then mark the job succeeded."""
    entries = []
    for i, data in enumerate(files):
        key = result_key(job_id, f"{i}.png")
        open_storage(services.settings).put(key, data, content_type="image/png")
        entries.append({"key": key, "content_type": "image/png", "width": 64, "height": 64})
    store = services.store
    assert store.start(job_id, JobType.IMAGE, holder="w", lease_until=time.time() + 30) is not None
    assert store.succeed(job_id, JobType.IMAGE, holder="w", result={"seed": 7, "files": entries}).ok


def test_result_files_download_by_index_from_local_storage(client: FlaskClient) -> None:
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    assert client.get(f"/v1/jobs/{job['id']}/result").status_code == 409
    finish(client.application.extensions["llmb"], job["id"], [b"\x89PNG zero", b"\x89PNG one"])
    view = client.get(f"/v1/jobs/{job['id']}").get_json()
    assert [f["url"] for f in view["result"]["files"]] == [
        f"http://localhost/v1/jobs/{job['id']}/result/0",
        f"http://localhost/v1/jobs/{job['id']}/result/1",
    ]
    assert "key" not in view["result"]["files"][0]
    assert view["links"]["result"].endswith("/result")
    first = client.get(f"/v1/jobs/{job['id']}/result")
    assert (first.status_code, first.content_type, first.data) == (200, "image/png", b"\x89PNG zero")
    assert client.get(f"/v1/jobs/{job['id']}/result/1").data == b"\x89PNG one"
    assert client.get(f"/v1/jobs/{job['id']}/result/2").status_code == 404


def test_public_url_setting_shapes_the_links(app_for: AppFor) -> None:
    client = app_for(public_url="https://api.example.com/").test_client()
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    assert job["links"]["self"] == f"https://api.example.com/v1/jobs/{job['id']}"


def test_s3_results_redirect_to_a_working_presigned_url(
    s3_service: Service, tmp_path: Path, redis_url: str, redis_client: Redis, app_for: AppFor
) -> None:
    client = app_for(s3_settings_for(s3_service, tmp_path, redis_url)).test_client()
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    finish(client.application.extensions["llmb"], job["id"], [b"\x89PNG s3", b"\x89PNG s3 one"])
    response = client.get(f"/v1/jobs/{job['id']}/result/1")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    with urllib.request.urlopen(response.headers["Location"]) as download:
        assert download.read() == b"\x89PNG s3 one"


def test_s3_without_redirect_proxies_the_bytes(
    s3_service: Service, tmp_path: Path, redis_url: str, redis_client: Redis, app_for: AppFor
) -> None:
    client = app_for(s3_settings_for(s3_service, tmp_path, redis_url, s3_redirect=False)).test_client()
    job = client.post("/v1/jobs", data=IMAGE, content_type="application/json").get_json()
    finish(client.application.extensions["llmb"], job["id"], [b"\x89PNG proxied"])
    response = client.get(f"/v1/jobs/{job['id']}/result")
    assert (response.status_code, response.data) == (200, b"\x89PNG proxied")
