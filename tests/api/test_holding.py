"""Caps on held requests in one process: the OpenAI error shape, nothing submitted, places that lapse."""

from __future__ import annotations

import time

from flask import Flask
from redis import Redis

from api.holding import Holder
from shared.auth import ANONYMOUS
from shared.settings import Limits
from shared.store.holds import Hold, Holds
from tests.api.conftest import AppFor

CHAT = {"model": "tiny-chat", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def test_a_streamed_chat_past_the_cap_gets_openais_429_and_submits_nothing(app_for: AppFor) -> None:
    app: Flask = app_for(limits=Limits(key_max_streams=1))
    app.extensions["llmb"].holder.take(ANONYMOUS)  # the key's only place, held elsewhere
    client = app.test_client()

    refused = client.post("/v1/chat/completions", json=CHAT)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()
    error = refused.get_json()["error"]
    assert "event streams and long-waits" in error["message"]
    assert client.get("/v1/jobs").get_json()["jobs"] == []


def test_a_stream_gives_its_place_back_when_it_is_closed_even_unread(app_for: AppFor) -> None:
    app: Flask = app_for(limits=Limits(key_max_streams=1))
    client = app.test_client()
    job_id = client.post("/v1/jobs", json={"type": "embed", "input": {"input": ["a"]}}).get_json()["id"]

    opened = client.get(f"/v1/jobs/{job_id}/events", buffered=False)
    assert opened.status_code == 200
    assert client.get(f"/v1/jobs/{job_id}?wait=1").status_code == 429
    opened.close()  # never iterated: the server's close() alone frees the place

    assert client.get(f"/v1/jobs/{job_id}?wait=1").status_code == 200


def test_places_of_a_process_that_died_lapse_and_renewed_ones_stay(redis_client: Redis) -> None:
    caps = {"key_cap": 1, "tenant_cap": 5}
    short = Holds(redis_client, ttl_s=0.3)
    dead = short.take("k1", "t", **caps)
    assert isinstance(dead, Hold)
    assert short.take("k1", "t", **caps) == "key"

    time.sleep(0.4)  # nobody renews the dead process's place: it lapses after its TTL
    alive = Holds(redis_client).take("k1", "t", **caps)
    assert isinstance(alive, Hold)
    Holds(redis_client).renew([alive])
    assert Holds(redis_client).count("k1", "t") == (1, 1)
    assert short.take("k1", "t", **caps) == "key"
    Holds(redis_client).give_back(alive)
    assert Holds(redis_client).count("k1", "t") == (0, 0)


def test_a_non_streamed_openai_request_long_waits_under_the_cap_and_gives_its_place_back(
    app_for: AppFor,
) -> None:
    app: Flask = app_for(limits=Limits(key_max_streams=1), openai_wait_s=1)
    client, holder = app.test_client(), app.extensions["llmb"].holder
    embed = {"model": "all-MiniLM-L6-v2", "input": "hi"}

    assert client.post("/v1/embeddings", json=embed).status_code == 504  # no worker: the wait ends
    assert holder.holds.count(ANONYMOUS.key_id, ANONYMOUS.tenant) == (0, 0)
    held = holder.take(ANONYMOUS)
    refused = client.post("/v1/embeddings", json=embed)
    holder.give_back(held)

    assert refused.status_code == 429
    assert "event streams and long-waits" in refused.get_json()["error"]["message"]
    assert len(client.get("/v1/jobs").get_json()["jobs"]) == 1  # the refused request made no job


def test_a_live_process_renews_its_places_and_they_lapse_once_it_stops(redis_client: Redis) -> None:
    holder = Holder(Holds(redis_client, ttl_s=1.5), Limits())
    holder.take(ANONYMOUS)
    try:
        time.sleep(3.5)  # more than twice the TTL: only renewals (every 0.5 s) keep the place
        assert holder.holds.count(ANONYMOUS.key_id, ANONYMOUS.tenant) == (1, 1)
    finally:
        holder.close()  # as if the process died: nothing renews, nothing gives back
    time.sleep(1.6)
    assert holder.holds.count(ANONYMOUS.key_id, ANONYMOUS.tenant) == (0, 0)
