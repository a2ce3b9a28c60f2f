"""The three engines through the whole system, with the small local models and the real MiniLM."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard
from tests.integration.conftest import Api

# How far (in levels of 255) an image batched may differ from the same seed alone: float rounding
# in batch-dependent kernels. Measured: at most 1 level, on 0.01 % of pixels (CPU, small model).
PIXEL_TOLERANCE = 4


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Iterator[tuple[Api, Stack]]:
    st = Stack(tmp_path_factory.mktemp("engines"))
    try:
        st.start_redis()
        api = st.start_api(workers=1)
        env = {
            "LLMB_IMAGE_MODEL": str(tiny_models / "tiny-sd"),
            "LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:HoldingImagePipeline",
            "LLMB_CHAT_MODEL": str(tiny_models / "tiny-chat"),
            "LLMB_CHAT_PIPELINE": "tests.fixtures.pipelines:ScriptedChatPipeline",
            "LLMB_BATCH_MAX": "4",
            "LLMB_BATCH_WAIT_MS": "50",
        }
        st.start_worker(queues="image,chat,embed", env=env, name="engines")
        client = Api(api.port)
        yield client, st
        client.close()
    finally:
        discard(st)


def submit(api: Api, job_type: str, input_: dict[str, Any], *, wait: int = 0) -> dict[str, Any]:
    headers = {"Prefer": f"wait={wait}"} if wait else {}
    response = api.http.post("/v1/jobs", json={"type": job_type, "input": input_}, headers=headers)
    assert response.status_code in (200, 202), response.text
    job: dict[str, Any] = response.json()
    return job


def events(api: Api, job_id: str, **headers: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every frame of the job's event stream until `done`, as (id, event, data)."""
    frames = []
    with api.http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=120) as response:
        assert response.status_code == 200
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
            elif not line and "event" in fields:
                frames.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
                fields = {}
    return frames


CHAT = {"messages": [{"role": "user", "content": "Tell me about foxes."}], "max_tokens": 24}


def test_chat_streams_tokens_in_order_and_they_make_the_reply(engines: tuple[Api, Stack]) -> None:
    api, _ = engines
    job = submit(api, "chat", {**CHAT, "seed": 7})
    frames = events(api, job["id"])
    tokens = [data for _, kind, data in frames if kind == "token"]
    done = frames[-1][2]
    assert frames[-1][1] == "done"
    assert done["status"] == "succeeded"
    assert tokens
    assert [t["index"] for t in tokens] == sorted(t["index"] for t in tokens)
    assert "".join(t["text"] for t in tokens) == done["result"]["text"]
    usage = done["result"]["usage"]
    assert usage["completion_tokens"] <= 24
    assert done["progress"] == {"step": usage["completion_tokens"], "total": usage["completion_tokens"]}
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def seeded_replies(api: Api, seeds: range, count: int) -> list[tuple[int, str]]:
    """The first `count` of `seeds` whose reply (temperature 1) has 5 characters or more, with it.

    A random-weight model may sample end-of-text at any step, and on another CPU a seed's draws
    differ: a reply too short to take a stop string from is passed over, not failed on.
    """
    found = []
    for seed in seeds:
        text = submit(api, "chat", {**CHAT, "seed": seed, "temperature": 1.0}, wait=60)["result"]["text"]
        if len(text) >= 5:
            found.append((seed, text))
        if len(found) == count:
            return found
    raise AssertionError(f"fewer than {count} of seeds {seeds} gave a reply of 5 characters or more")


def test_chat_with_a_seed_is_reproducible_and_stop_strings_cut(engines: tuple[Api, Stack]) -> None:
    api, _ = engines
    (seed, text), (_, other) = seeded_replies(api, range(11, 31), 2)
    again = submit(api, "chat", {**CHAT, "seed": seed, "temperature": 1.0}, wait=60)
    assert again["result"]["text"] == text
    assert other != text
    stop = text[3:5]
    cut = submit(api, "chat", {**CHAT, "seed": seed, "temperature": 1.0, "stop": [stop]}, wait=60)
    assert cut["result"]["finish_reason"] == "stop"
    assert cut["result"]["text"] == text[: text.index(stop)]


def test_cancel_a_chat_mid_generation_then_the_worker_goes_on(engines: tuple[Api, Stack]) -> None:
    api, _ = engines
    endless = {"messages": [{"role": "user", "content": "endless"}], "max_tokens": 2000}
    job = submit(api, "chat", endless)
    with api.http.stream("GET", f"/v1/jobs/{job['id']}/events", timeout=120) as response:
        for line in response.iter_lines():
            if line == "event: token":
                api.http.post(f"/v1/jobs/{job['id']}/cancel")
                break
    after = submit(api, "chat", {**CHAT, "max_tokens": 4}, wait=60)
    assert after["status"] == "succeeded"
    stopped = api.job(job["id"])
    assert stopped["status"] == "canceled"
    assert stopped["result"] is None


def test_a_short_chat_runs_and_ends_while_a_long_one_streams_in_the_same_worker(
    engines: tuple[Api, Stack],
) -> None:
    """One worker process, deliveries on threads: a chat job does not wait for the one streaming."""
    api, _ = engines
    endless = submit(api, "chat", {"messages": [{"role": "user", "content": "endless"}], "max_tokens": 2000})
    api.until(endless["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)  # it streams
    short = submit(api, "chat", {**CHAT, "max_tokens": 4}, wait=60)
    assert short["status"] == "succeeded"
    assert api.job(endless["id"])["status"] == "running"  # only a cancel ends it
    api.http.post(f"/v1/jobs/{endless['id']}/cancel")
    assert api.finished(endless["id"], timeout=60)["status"] == "canceled"


def test_a_chat_longer_than_the_context_fails_with_a_clear_error(engines: tuple[Api, Stack]) -> None:
    api, _ = engines
    job = submit(api, "chat", {**CHAT, "max_tokens": 2048}, wait=60)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "invalid_input"
    assert "context of 2048 tokens" in job["error"]["message"]


def test_embeddings_are_real_384_dimensional_and_similar_sentences_score_closer(
    engines: tuple[Api, Stack],
) -> None:
    api, _ = engines
    texts = [
        "A cat sits on the mat.",
        "A kitten is sitting on a rug.",
        "Quarterly revenue rose by four percent.",
    ]
    job = submit(api, "embed", {"input": texts}, wait=60)
    assert job["status"] == "succeeded"
    vectors = np.array(job["result"]["embeddings"])
    assert vectors.shape == (3, 384)
    assert job["result"]["dimensions"] == 384
    cosine = vectors @ vectors.T
    assert cosine[0, 1] > 0.5 > cosine[0, 2]
    single = submit(api, "embed", {"input": "A cat sits on the mat."}, wait=60)
    assert np.allclose(single["result"]["embeddings"][0], vectors[0], atol=1e-5)
    assert api.http.get(f"/v1/jobs/{job['id']}/result").json()["embeddings"] == job["result"]["embeddings"]


def line_up_behind_a_held_job(api: Api, release: Path, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Submit `specs` while a held job keeps the worker busy, so they wait together; then release it."""
    blocker = submit(api, "image", {"prompt": f"hold:{release}", "width": 256, "height": 256, "steps": 2})
    api.until(blocker["id"], lambda j: j["status"] == "running", timeout=120)
    jobs = [submit(api, "image", spec) for spec in specs]
    for job in jobs:  # each claimed into the open micro-batch before the blocker leaves the device
        api.until(job["id"], lambda j: j["status"] == "running", timeout=120)
    release.touch()
    assert api.finished(blocker["id"], timeout=120)["status"] == "succeeded"
    return jobs


def test_image_batch_runs_together_and_a_canceled_member_stops_alone(
    engines: tuple[Api, Stack], tmp_path: Path
) -> None:
    api, st = engines
    size = {"width": 128, "height": 96, "steps": 20}
    specs = [{"prompt": f"hold:{tmp_path / 'go'}", **size}] + [
        {"prompt": f"fox {i}", **size, "seed": i} for i in range(3)
    ]
    batch = line_up_behind_a_held_job(api, tmp_path / "first", specs)  # the batch itself holds at step 1
    api.until(batch[2]["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1, timeout=120)
    api.http.post(f"/v1/jobs/{batch[2]['id']}/cancel")
    (tmp_path / "go").touch()
    done = [api.finished(j["id"], timeout=120) for j in batch]
    assert [j["status"] for j in done] == ["succeeded", "succeeded", "canceled", "succeeded"]
    assert done[1]["result"]["seed"] == 0
    assert done[2]["result"] is None
    worker_log = next(s for s in st.services if s.name == "engines").log()
    ran_together = [line for line in worker_log.splitlines() if "batch of 4 image jobs:" in line]
    assert len(ran_together) == 1  # the four met in the micro-batcher while the blocker held the device
    assert all(j["id"] in ran_together[0] for j in batch)


def pixels(api: Api, job: dict[str, Any]) -> np.ndarray:
    """The job's first image as an array of 0..255 integers."""
    data = api.http.get(job["result"]["files"][0]["url"]).content
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image).astype(int)


def test_same_seed_alone_or_batched_gives_the_same_image_within_rounding(
    engines: tuple[Api, Stack], tmp_path: Path
) -> None:
    api, _ = engines
    spec = {"prompt": "a lighthouse", "width": 128, "height": 96, "steps": 3, "seed": 5}
    alone = submit(api, "image", spec, wait=60)
    pair = line_up_behind_a_held_job(api, tmp_path / "go", [spec, {**spec, "seed": 6}])
    results = [api.finished(j["id"], timeout=120) for j in pair]
    assert all(j["status"] == "succeeded" for j in results)
    batched, lone, other = pixels(api, results[0]), pixels(api, alone), pixels(api, results[1])
    # The README's promise: the same noise, and pixels that differ only by float rounding.
    assert np.abs(batched - lone).max() <= PIXEL_TOLERANCE
    assert np.abs(other - lone).max() > 10 * PIXEL_TOLERANCE  # another seed is another image


def test_sse_resumes_from_last_event_id(engines: tuple[Api, Stack]) -> None:
    api, _ = engines
    job = submit(api, "image", {"prompt": "resume", "width": 64, "height": 64, "steps": 4}, wait=60)
    frames = events(api, job["id"])
    resumed = events(api, job["id"], **{"Last-Event-ID": frames[2][0]})
    assert [f[0] for f in resumed] == [f[0] for f in frames[3:]]
    steps = [data["step"] for _, kind, data in frames if kind == "progress"]
    assert steps == sorted(steps)
    assert steps[-1] == 4  # fast steps are coalesced (LLMB_EVENT_INTERVAL_MS); the last one always lands


def test_embeddings_report_usage_and_refuse_or_cut_what_the_model_cannot_read(
    engines: tuple[Api, Stack],
) -> None:
    api, _ = engines
    short = submit(api, "embed", {"input": ["a cat", "a kitten sits"]}, wait=60)
    usage = short["result"]["usage"]
    assert (
        usage["prompt_tokens"] == usage["total_tokens"] >= 6
    )  # special tokens counted, as the model reads them
    assert short["result"]["truncated"] == []
    long = [
        "fox " * 400 + "ends here",
        "fox " * 400 + "ends elsewhere",
    ]  # the same for the model's first 256 tokens
    refused = submit(api, "embed", {"input": long}, wait=60)
    assert (refused["status"], refused["error"]["code"]) == ("failed", "invalid_input")
    assert "truncate" in refused["error"]["message"]
    assert "input.input.0: " in refused["error"]["message"]
    assert "{'field'" not in refused["error"]["message"]  # our sentence, not a Python repr of the errors
    cut = submit(api, "embed", {"input": long, "truncate": True}, wait=60)
    assert cut["status"] == "succeeded"
    assert cut["result"]["truncated"] == [0, 1]
    assert cut["result"]["usage"]["prompt_tokens"] == 2 * 256
