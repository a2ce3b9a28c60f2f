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

from shared.vocabulary import JobType

# One queue per job type, named as the type.
QUEUES: tuple[JobType, ...] = tuple(JobType)
TASK_NAME = "llmb.run_job"


def task_message(job_id: str, job_type: JobType) -> bytes:
    """The Redis list entry Celery's protocol 2 defines for `run_job(job_id)` on the type's queue."""
    body = json.dumps([[job_id], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    properties = {
        "correlation_id": job_id,
        "reply_to": "",
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": job_type.value},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    envelope = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": _headers(job_id),
        "properties": properties,
    }
    return json.dumps(envelope).encode()


def _headers(job_id: str) -> dict[str, object]:
    return {
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


_ORIGIN = f"{os.getpid()}@{socket.gethostname()}"
