"""The built-in demo models (random weights) are named as such where their output shows: /v1/models and
the playground's banner; a deployment with real models says nothing of the kind."""

from __future__ import annotations

from tests.api.conftest import AppFor


def test_the_demo_models_are_marked_in_v1_models_and_on_the_page(app_for: AppFor) -> None:
    client = app_for().test_client()
    models = {m["id"]: m for m in client.get("/v1/models").get_json()["data"]}
    assert models["tiny-chat"]["demo"] is True
    assert models["tiny-sd"]["demo"] is True
    assert "random weights" in models["tiny-chat"]["note"]
    assert "LLMB_CHAT_MODEL" in models["tiny-chat"]["note"]
    assert "demo" not in models["all-MiniLM-L6-v2"]  # the real embedding model
    assert client.get("/v1/models/tiny-chat").get_json()["demo"] is True
    page = client.get("/ui").get_data(as_text=True)
    assert 'data-testid="demo-models"' in page
    assert "tiny-sd and tiny-chat: the built-in demo models with random weights" in page


def test_real_models_carry_no_demo_mark(app_for: AppFor) -> None:
    client = app_for(image_model="org/real-sd", chat_model="/models/real-chat").test_client()
    assert not [m for m in client.get("/v1/models").get_json()["data"] if "demo" in m]
    assert 'data-testid="demo-models"' not in client.get("/ui").get_data(as_text=True)
