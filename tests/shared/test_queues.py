from __future__ import annotations

import base64
import json

from celery import Celery
from kombu.serialization import dumps

from shared.celery_config import make_celery
from shared.queues import QUEUES, TASK_NAME, task_message
from shared.settings import load_settings
from shared.vocabulary import JobType


def test_task_message_is_what_celery_itself_builds() -> None:
    envelope = json.loads(task_message("job-1", JobType.CHAT))
    reference = Celery(broker="redis://unused").amqp.as_task_v2(
        "job-1", TASK_NAME, args=("job-1",), origin=envelope["headers"]["origin"]
    )
    assert envelope["headers"] == reference.headers
    assert envelope["content-type"] == "application/json"
    assert base64.b64decode(envelope["body"]).decode() == dumps(reference.body, serializer="json")[2]
    properties = envelope["properties"]
    assert properties["correlation_id"] == reference.properties["correlation_id"]
    assert properties["delivery_info"] == {"exchange": "", "routing_key": "chat"}
    assert (properties["body_encoding"], properties["delivery_mode"], properties["priority"]) == (
        "base64",
        2,
        0,
    )


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
