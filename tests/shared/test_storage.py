from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from devtools.stack.process import Service, free_port
from shared.errors import NotFoundError, StorageError
from shared.settings import Settings, load_settings
from shared.storage import ObjectReader, ObjectStore, open_reader, open_storage, result_key
from shared.storage.local import LocalStore
from tests.conftest import s3_settings_for


def settings_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if kind == "local":
        return load_settings(data_dir=tmp_path)
    svc: Service = request.getfixturevalue("s3_service")
    return s3_settings_for(svc, tmp_path, "redis://127.0.0.1:1/0")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return open_storage(settings_for(request.param, request, tmp_path))


@pytest.fixture(params=["local", "s3"])
def written_and_read(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ObjectStore, ObjectReader]:
    """The workers' store and the API's reader over the same objects."""
    settings = settings_for(request.param, request, tmp_path)
    return open_storage(settings), open_reader(settings)


def test_put_then_get_returns_the_bytes(storage: ObjectStore) -> None:
    key = result_key(f"job-{time.time_ns()}", "0.png")
    storage.put(key, b"first", content_type="image/png")
    storage.put(key, b"second", content_type="image/png")
    assert storage.get(key) == b"second"


def test_the_api_reader_sees_what_a_worker_wrote(written_and_read: tuple[ObjectStore, ObjectReader]) -> None:
    store, reader = written_and_read
    key = result_key(f"job {time.time_ns()}", "0.png")
    store.put(key, b"\x89PNG-bytes", content_type="image/png")
    assert reader.get(key) == b"\x89PNG-bytes"
    reader.check()
    with pytest.raises(NotFoundError):
        reader.get("results/none/0.png")


def test_delete_prefix_deletes_a_jobs_folder_and_nothing_else(storage: ObjectStore) -> None:
    for key in ("results/a/0.png", "results/a/1.png", "results/ab/0.png", "results/b/0.png"):
        storage.put(key, b"x", content_type="image/png")

    assert storage.delete_prefix("results/a/") == 2
    assert storage.delete_prefix("results/a/") == 0
    assert storage.delete_prefix("results/none/") == 0

    for gone in ("results/a/0.png", "results/a/1.png"):
        with pytest.raises(NotFoundError):
            storage.get(gone)
    assert storage.get("results/ab/0.png") == storage.get("results/b/0.png") == b"x"


def test_missing_object_is_not_found(storage: ObjectStore) -> None:
    with pytest.raises(NotFoundError):
        storage.get("results/none/0.png")


def test_check_passes_on_a_working_store(storage: ObjectStore) -> None:
    storage.check()


def test_s3_presigned_url_serves_the_object(s3_service: Service, tmp_path: Path) -> None:
    settings = s3_settings_for(s3_service, tmp_path, "redis://127.0.0.1:1/0")
    key = result_key("presigned", "0.png")
    open_storage(settings).put(key, b"\x89PNG-bytes", content_type="image/png")
    url = open_reader(settings).presigned_url(key, content_type="image/png")
    assert url is not None
    assert "X-Amz-Expires=900" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"\x89PNG-bytes"
        assert response.headers["Content-Type"] == "image/png"


def test_s3_presigns_for_the_public_host(s3_service: Service, tmp_path: Path) -> None:
    settings = s3_settings_for(
        s3_service, tmp_path, "redis://x:1/0", s3_public_url="https://files.example.com"
    )
    url = open_reader(settings).presigned_url("results/j/0.png", content_type="image/png")
    assert url is not None
    assert url.startswith("https://files.example.com/llmb/results/j/0.png?")


def test_s3_down_fails_fast_with_storage_error(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        storage="s3",
        s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
        s3_access_key="a",
        s3_secret_key="b",
    )
    store, reader = open_storage(settings), open_reader(settings)
    started = time.monotonic()
    with pytest.raises(StorageError):
        store.put("results/j/0.png", b"x", content_type="image/png")
    for check in (store.check, reader.check, lambda: reader.get("results/j/0.png")):
        with pytest.raises(StorageError):
            check()
    assert time.monotonic() - started < 30


def test_local_store_refuses_keys_outside_its_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    with pytest.raises(NotFoundError):
        store.get("../../etc/passwd")


def test_local_writes_leave_no_partial_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    store.put("results/j/0.png", b"data", content_type="image/png")
    assert [p.name for p in (tmp_path / "objects" / "results" / "j").iterdir()] == ["0.png"]


def test_an_s3_delete_the_server_refuses_is_an_error_not_a_count() -> None:
    """Quiet deletes answer only the objects they could not delete: those must not pass as deleted."""
    from botocore.stub import Stubber

    from shared.storage.s3 import S3Store

    store = S3Store.from_settings(
        load_settings(
            storage="s3", s3_endpoint_url="http://127.0.0.1:1", s3_access_key="k", s3_secret_key="s"
        )
    )
    with Stubber(store.client) as stub:
        stub.add_response("list_objects_v2", {"Contents": [{"Key": "results/a/0.png"}]})
        refused = {"Key": "results/a/0.png", "Code": "InternalError", "Message": "try again"}
        stub.add_response("delete_objects", {"Errors": [refused]})
        with pytest.raises(StorageError, match="1 object\\(s\\) refused \\(InternalError: try again\\)"):
            store.delete_prefix("results/a/")
