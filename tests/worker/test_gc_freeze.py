"""What a worker or an API process loads at start is kept out of the collector's full passes (gc.freeze).

A full collection walks every tracked object with every thread paused: in a worker holding a batch
backlog it paused an interactive job's claim by 60-110 ms, twice in 200 jobs (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import Settings
from worker.app import ProcessState

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_threads_worker_freezes_what_it_loaded_before_it_consumes(
    settings: Settings, unfrozen: None
) -> None:
    state = ProcessState(
        settings.model_copy(
            update={
                "worker_pool": "threads",
                "queues": "image",
                "image_pipeline": "tests.fixtures.pipelines:ScriptedImagePipeline",
            }
        )
    )
    try:
        state.load_before_consuming()
        assert state.loaded
        assert gc.get_freeze_count() > 0
    finally:
        state.runtime().keeper._stop.set()  # its renewing thread ends


def test_an_api_worker_freezes_the_loaded_app(unfrozen: None) -> None:
    spec = importlib.util.spec_from_file_location("gunicorn_conf", REPO / "api" / "gunicorn_conf.py")
    assert spec is not None
    assert spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    conf.post_worker_init(object())
    assert gc.get_freeze_count() > 0
