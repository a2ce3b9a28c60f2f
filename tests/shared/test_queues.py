from __future__ import annotations

import base64
import json

from shared.queues import QUEUES, TASK_NAME, make_celery, task_message
from shared.settings import load_settings


def test_task_message_is_a_celery_v2_json_message_carrying_only_the_id() -> None:
    app = make_celery(load_settings())
    envelope = json.loads(task_message(app, "job-1", "chat"))
    assert envelope["content-type"] == "application/json"
    assert envelope["headers"]["id"] == "job-1"
    assert envelope["headers"]["task"] == TASK_NAME
    assert envelope["properties"]["delivery_info"]["routing_key"] == "chat"
    args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
    assert (args, kwargs) == (["job-1"], {})


def test_celery_is_at_least_once_and_json_only() -> None:
    settings = load_settings(job_time_limit_s=1200)
    conf = make_celery(settings).conf
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert list(conf.accept_content) == ["json"]
    assert conf.task_serializer == "json"
    assert [q.name for q in conf.task_queues] == list(QUEUES) == ["image", "chat", "embed"]


def test_visibility_timeout_exceeds_the_hard_limit_everywhere_celery_reads_it() -> None:
    settings = load_settings(job_time_limit_s=3600)
    conf = make_celery(settings).conf
    assert conf.task_time_limit > conf.task_soft_time_limit > settings.job_time_limit_s
    for timeout in (
        conf.visibility_timeout,
        conf.broker_transport_options["visibility_timeout"],
        conf.result_backend_transport_options["visibility_timeout"],
    ):
        assert timeout > conf.task_time_limit
