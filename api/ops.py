"""Operational endpoints: liveness, readiness and the queue load autoscalers read."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.problems import problem
from api.schemas import QueueStats, QueuesView
from api.services import services
from shared.errors import ServiceError
from shared.leases import HEARTBEAT_TTL_S
from shared.queues import QUEUES
from shared.store import redis_errors

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health() -> Response:
    # Liveness only: the process answers. Dependencies belong to /ready.
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> Response:
    svc = services()
    try:
        with redis_errors():
            svc.store.redis.ping()
        svc.storage.check()
    except ServiceError as exc:
        return problem(503, "not_ready", "Not ready", str(exc))
    return jsonify(status="ready")


@bp.get("/v1/queues")
def queues() -> Response:
    stats = services().store.queue_stats(QUEUES, worker_ttl_s=HEARTBEAT_TTL_S)
    view = QueuesView(queues={q: QueueStats(**s) for q, s in stats.items()})
    return jsonify(view.model_dump(mode="json"))
