"""The Celery configuration the workers (and tests) use: at-least-once delivery of JSON-only messages."""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from shared.queues import QUEUES
from shared.redis_target import RedisTarget
from shared.settings import Settings


def make_celery(settings: Settings, *, name: str = "llmb") -> Celery:
    """A Celery app configured for at-least-once delivery of JSON-only messages."""
    app = Celery(name, broker=RedisTarget.of(settings).broker_url(), set_as_current=False)
    app.conf.update(celery_settings(settings))
    return app


def transport_options(settings: Settings) -> dict[str, object]:
    """kombu's Redis transport options: redelivery after the visibility timeout, short socket waits.

    With LLMB_REDIS_SENTINELS they also name the master and how to reach the sentinels.
    """
    return RedisTarget.of(settings).broker_options() | {
        "visibility_timeout": settings.visibility_timeout_s,
        "socket_connect_timeout": 2,
        # A connection left half-open by a Redis restart blocks a read until this passes, with a received
        # message undispatched meanwhile (seen under chaos, 10 s): keep it short. Reads block at most
        # a second (kombu's BRPOP timeout), so 3 s never cuts a healthy one.
        "socket_timeout": 3,
        "retry_on_timeout": True,
        "health_check_interval": 10,
    }


def celery_settings(settings: Settings) -> dict[str, object]:
    """Celery's configuration under our settings: the reasons are beside each choice."""
    transport = transport_options(settings)
    return dict(
        task_queues=[Queue(q.value, routing_key=q.value) for q in QUEUES],
        task_default_queue=QUEUES[0].value,
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
        # Remote control listens on a Redis pub/sub connection; after Redis drops its clients the
        # worker was seen blocked reading that socket for good (celery#10205). Nothing here needs it.
        worker_enable_remote_control=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
