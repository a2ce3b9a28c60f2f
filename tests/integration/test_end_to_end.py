"""The real job path with the small local diffusers model: HTTP in, PNG out."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard
from tests.integration.conftest import SCRIPTED, Api

GENERATE_WAIT_S = 240


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Iterator[Api]:
    st = Stack(tmp_path_factory.mktemp("e2e"))
    try:
        st.start_redis()
        # /model/generate waits up to LLMB_LIMITS__MAX_WAIT_S for its 512x512 image: about 50 s of the
        # default 60 on a loaded 2-core machine, so it may wait longer here.
        api = Api(st.start_api(workers=1, env={"LLMB_LIMITS__MAX_WAIT_S": str(GENERATE_WAIT_S)}).port)
        st.start_worker(queues="image", env={"LLMB_IMAGE_MODEL": str(tiny_models / "tiny-sd")})
        yield api
        api.close()
    finally:
        discard(st)


def png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_submit_wait_and_download_a_128x96_png(real: Api) -> None:
    job = real.submit("a red fox", width=128, height=96, steps=2)
    assert job["status"] in ("queued", "running")
    done = real.job(job["id"], wait=30)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1
    assert done["progress"] == {"step": 2, "total": 2}
    image = png(real.http.get(done["result"]["files"][0]["url"]).content)
    assert image.size == (128, 96)


def test_prefer_wait_answers_200_with_the_finished_job(real: Api) -> None:
    job = real.submit("a red fox", wait=30, num_images=2)
    assert job["status"] == "succeeded"
    assert len(job["result"]["files"]) == 2
    assert png(real.http.get(job["result"]["files"][1]["url"]).content).size == (64, 64)


def test_the_same_seed_gives_the_same_image(real: Api) -> None:
    a = real.submit("a lighthouse", wait=30, seed=42)
    b = real.submit("a lighthouse", wait=30, seed=42)
    c = real.submit("a lighthouse", wait=30, seed=43)
    get = lambda job: real.http.get(job["result"]["files"][0]["url"]).content  # noqa: E731
    assert get(a) == get(b)
    assert get(a) != get(c)
    assert a["result"]["seed"] == 42


def test_model_generate_answers_a_png(real: Api) -> None:
    response = real.http.post("/model/generate", json={"text": "a cat"}, timeout=GENERATE_WAIT_S + 30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert png(response.content).size == (512, 512)
    assert real.http.post("/model/generate", json={"prompt": "a cat"}).status_code == 422


def test_s3_storage_end_to_end(stack: Stack) -> None:
    stack.start_s3()
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    job = api.submit("ok", wait=30, num_images=2)
    assert job["status"] == "succeeded"
    redirect = api.http.get(job["result"]["files"][1]["url"])
    assert redirect.status_code == 302
    assert api.http.get(redirect.headers["location"]).content.startswith(b"\x89PNG")
