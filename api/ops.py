"""Operational endpoints: liveness, readiness and the queue load autoscalers read."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.auth import PUBLIC
from api.operations import operation
from api.schemas import QueueStats, QueuesView
from api.services import services
from api.spec import Answer, json_answer
from shared.auth import Scope
from shared.errors import NotReadyError, ServiceError
from shared.store import HEARTBEAT_TTL_S

bp = Blueprint("ops", __name__)
_ALIVE = b'{"status":"ok"}\n'


@operation(bp.get("/health"), {200: Answer("alive")}, scopes=PUBLIC)
def health() -> Response:
    """Liveness: the process answers; no dependency is checked (they belong to /ready)."""
    return Response(_ALIVE, mimetype="application/json")  # jsonify(status="ok")'s bytes, made once


@operation(bp.get("/ready"), {200: Answer("ready")}, scopes=PUBLIC, problems=(503,))
def ready() -> Response:
    """Readiness: Redis and the object store answer; 503 otherwise."""
    svc = services()
    try:
        svc.store.ping()
        svc.storage.check()
    except ServiceError as exc:
        raise NotReadyError(str(exc)) from exc
    return jsonify(status="ready")


@operation(
    bp.get("/v1/queues"),
    {200: json_answer("every queue's load", "QueuesView")},
    scopes=(
        Scope.QUEUES_READ,
        Scope.JOBS_READ,
    ),
    problems=(503,),
)
def queues() -> Response:
    """Per queue: jobs waiting, running, live workers and their load (the autoscaling signal); 503."""
    loads = services().store.queue_loads(worker_ttl_s=HEARTBEAT_TTL_S)
    view = QueuesView(
        queues={
            q.value: QueueStats(waiting=s.waiting, running=s.running, workers=s.workers, load=s.load)
            for q, s in loads.items()
        }
    )
    return jsonify(view.model_dump(mode="json"))
