"""Queue names and the Celery task message for a job, built without importing Celery.

The API pushes the message in the same Redis transaction that writes the job's record, so a
record never exists without its message nor a message without its record. Building it here
keeps Celery (and its memory) out of the API process; tests compare it with what Celery builds.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid

from shared.jobs import JobType

QUEUES: tuple[str, ...] = tuple(t.value for t in JobType)
TASK_NAME = "llmb.run_job"


def task_message(job_id: str, queue: str) -> bytes:
    """The Redis list entry Celery's protocol 2 defines for `run_job(job_id)` on `queue`."""
    body = json.dumps([[job_id], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    headers: dict[str, object] = {
        "lang": "py",
        "task": TASK_NAME,
        "id": job_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": job_id,
        "parent_id": None,
        "argsrepr": repr((job_id,)),
        "kwargsrepr": "{}",
        "origin": _ORIGIN,
        "ignore_result": False,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    properties = {
        "correlation_id": job_id,
        "reply_to": "",
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": queue},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    envelope = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": properties,
    }
    return json.dumps(envelope).encode()


_ORIGIN = f"{os.getpid()}@{socket.gethostname()}"
