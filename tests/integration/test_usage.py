"""Usage through real processes: a Celery worker measures each job's usage, the API and `llmb usage` sum."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from tests.integration.conftest import SCRIPTED, Api, bearer, finished_with
from tests.integration.test_reliability import holder_pid

ADMIN = "usage-admin-key"


def test_each_job_s_usage_adds_up_to_the_totals_the_api_and_the_cli_show(stack: Stack) -> None:
    port = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}).port
    stack.start_worker(env=SCRIPTED | {"LLMB_BATCH_MAX": "4"})
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=90) as api:
        keys = {t: api.post("/v1/keys", json={"name": t}, headers=bearer(ADMIN)).json() for t in ("a", "b")}
        asked = [("a", "work:0.2", 64, 1), ("a", "ok", 128, 2), ("b", "fail", 64, 1), ("b", "ok", 64, 3)]
        ids = []
        for tenant, prompt, side, steps in asked:
            body = {"type": "image", "input": {"prompt": prompt, "width": side, "height": 64, "steps": steps}}
            answer = api.post("/v1/jobs", json=body, headers=bearer(keys[tenant]["key"]))
            assert answer.status_code == 202, answer.text
            ids.append((tenant, answer.json()["id"]))
        jobs = [finished_with(api, keys[t]["key"], i) for t, i in ids]
        assert [j["status"] for j in jobs] == ["succeeded", "succeeded", "failed", "succeeded"]
        for job, (_, _, side, steps) in zip(jobs, asked, strict=True):
            assert (job["usage"]["images"], job["usage"]["pixel_steps"]) == (1, side * 64 * steps)
        assert sum(j["usage"]["device_s"] for j in jobs) >= 0.2  # "work:0.2" held its batch 0.2 s at least
        by_tenant = api.get("/v1/usage", headers=bearer(ADMIN)).json()["groups"]
        for group in by_tenant:
            mine = [j["usage"] for (t, _), j in zip(ids, jobs, strict=True) if t == group["tenant"]]
            assert group["jobs"] == len(mine)
            assert group["pixel_steps"] == sum(u["pixel_steps"] for u in mine)
            assert group["device_s"] == pytest.approx(sum(u["device_s"] for u in mine))
        seen_by_b = api.get("/v1/usage", params={"group_by": "key"}, headers=bearer(keys["b"]["key"])).json()
        assert [(g["key_id"], g["jobs"]) for g in seen_by_b["groups"]] == [(keys["b"]["id"], 2)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")} | {"LLMB_API_KEY": ADMIN}
    cli = [sys.executable, "-m", "cli", "--url", url, "usage", "--by", "type"]
    table = subprocess.run(cli, capture_output=True, text=True, timeout=60, cwd=REPO, env=env, check=True)
    assert table.stdout.split("\n")[1].split()[:2] == ["image", "4"]
    as_json = subprocess.run(
        [*cli, "--json"], capture_output=True, text=True, timeout=60, cwd=REPO, env=env, check=True
    )
    assert json.loads(as_json.stdout)["groups"][0]["images"] == 4


def test_a_job_rerun_after_its_worker_was_killed_is_counted_once(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env={**SCRIPTED, "LLMB_WORKER_POOL": "prefork"})  # the pool process dies alone
    job = api.submit(f"hold:{tmp_path / 'go'}", steps=3)
    api.until(job["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    os.kill(holder_pid(job, stack), signal.SIGKILL)  # its first run ends without a write
    api.until(job["id"], lambda j: j["attempts"] == 2)
    (tmp_path / "go").touch()
    done = api.finished(job["id"])
    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    (group,) = api.http.get("/v1/usage", params={"group_by": "type"}).json()["groups"]
    assert (group["jobs"], group["images"], group["pixel_steps"]) == (1, 1, 64 * 64 * 3)
    assert group["device_s"] == pytest.approx(done["usage"]["device_s"])


def test_real_chat_and_embed_jobs_count_the_tokens_their_results_report(
    stack: Stack, tiny_models: Path
) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(queues="chat,embed", env={"LLMB_CHAT_MODEL": str(tiny_models / "tiny-chat")})
    bodies = {
        "chat": {"messages": [{"role": "user", "content": "Tell me about foxes."}], "max_tokens": 8},
        "embed": {"input": ["a cat", "a kitten"]},
    }
    done = {}
    for job_type, body in bodies.items():
        answer = api.http.post(
            "/v1/jobs", json={"type": job_type, "input": body}, headers={"Prefer": "wait=60"}
        )
        done[job_type] = api.finished(answer.json()["id"], timeout=120)
    chat, embed = done["chat"], done["embed"]
    assert chat["status"] == embed["status"] == "succeeded"
    reported = chat["result"]["usage"]
    assert {k: chat["usage"][k] for k in ("prompt_tokens", "completion_tokens")} == {
        "prompt_tokens": reported["prompt_tokens"],
        "completion_tokens": reported["completion_tokens"],
    }
    assert embed["usage"]["prompt_tokens"] == embed["result"]["usage"]["prompt_tokens"] > 0
    assert chat["usage"]["device_s"] > 0
    assert embed["usage"]["device_s"] > 0
    groups = {g["type"]: g for g in api.http.get("/v1/usage", params={"group_by": "type"}).json()["groups"]}
    assert groups["chat"]["completion_tokens"] == reported["completion_tokens"]
    assert groups["embed"]["prompt_tokens"] == embed["usage"]["prompt_tokens"]
