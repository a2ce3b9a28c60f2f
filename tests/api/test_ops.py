from __future__ import annotations

import re
import time
from pathlib import Path

from flask.testing import FlaskClient

from devtools.stack.process import free_port
from shared.settings import load_settings
from tests.api.conftest import AppFor


def test_health_and_ready_with_everything_up(client: FlaskClient) -> None:
    assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/ready").get_json() == {"status": "ready"}


def test_redis_down_fails_fast_and_health_stays_up(tmp_path: Path, app_for: AppFor) -> None:
    settings = load_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", data_dir=tmp_path)
    client = app_for(settings).test_client()
    started = time.monotonic()
    response = client.post("/v1/jobs", json={"type": "image", "input": {"prompt": "x"}})
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert elapsed < 2
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "Redis" in ready.get_json()["detail"]


def test_openapi_document_describes_every_route(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(rule.rule))  # <int:index> -> {index}
        for rule in client.application.url_map.iter_rules()
        if rule.endpoint not in ("static", "openapi.openapi_json", "openapi.docs")
    }
    assert routes == set(doc["paths"])
    assert {"ImageInput", "ChatInput", "EmbedInput", "JobView", "Problem", "JobCreate"} <= set(
        doc["components"]["schemas"]
    )
    for path in ("/docs", "/docs/"):
        page = client.get(path)
        assert page.status_code == 200
        assert b"swagger-ui-bundle.js" in page.data
    for asset in ("/static/docs.js", "/static/vendor/swagger-ui/swagger-ui-bundle.js"):
        with client.get(asset) as response:
            assert response.status_code == 200
