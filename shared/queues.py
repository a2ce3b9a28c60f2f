"""Queue names, the Celery configuration both sides share, and the task message for a job."""

from __future__ import annotations

import base64
import os
import socket
import uuid

from celery import Celery
from kombu import Queue
from kombu.serialization import dumps as serialize
from kombu.utils.json import dumps as json_dumps

from shared.jobs import JobType
from shared.settings import Settings

QUEUES: tuple[str, ...] = tuple(t.value for t in JobType)
TASK_NAME = "llmb.run_job"


def make_celery(settings: Settings, *, name: str = "llmb") -> Celery:
    """A Celery app configured for at-least-once delivery of JSON-only messages."""
    app = Celery(name, broker=settings.redis_url, set_as_current=False)
    transport = {
        "visibility_timeout": settings.visibility_timeout_s,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        "retry_on_timeout": True,
        "health_check_interval": 10,
    }
    app.conf.update(
        task_queues=[Queue(q, routing_key=q) for q in QUEUES],
        task_default_queue=QUEUES[0],
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        # At-least-once: ack after the job ran, redeliver when a pool process dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Celery reads the visibility timeout from several places (celery#7651); set all of them.
        visibility_timeout=settings.visibility_timeout_s,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        task_soft_time_limit=settings.soft_time_limit_s,
        task_time_limit=settings.hard_time_limit_s,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
    return app


def task_message(app: Celery, job_id: str, queue: str) -> bytes:
    """The Redis list entry Celery would push for this job, built by Celery's own protocol code.

    The store pushes it in the same transaction that writes the record, so the record always
    exists before a worker can see the task, and no record is ever left without its task.
    """
    msg = app.amqp.as_task_v2(job_id, TASK_NAME, args=(job_id,), origin=_origin())
    content_type, encoding, body = serialize(msg.body, serializer="json")
    properties = dict(
        msg.properties,
        delivery_mode=2,
        priority=0,
        body_encoding="base64",
        delivery_tag=str(uuid.uuid4()),
        delivery_info={"exchange": "", "routing_key": queue},
    )
    envelope = {
        "body": base64.b64encode(body.encode() if isinstance(body, str) else body).decode(),
        "content-encoding": encoding,
        "content-type": content_type,
        "headers": msg.headers,
        "properties": properties,
    }
    return json_dumps(envelope).encode()


def _origin() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"
