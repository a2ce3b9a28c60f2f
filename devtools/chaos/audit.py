"""After the load: every job's record and status events read from Redis, every object from the S3 bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import boto3
from botocore.config import Config
from redis import Redis

from shared import redis_keys
from shared.job_record import JobRecord

PNG_START = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"
CHUNK = 200


@dataclass(frozen=True)
class Status:
    """A job's status event: when Redis wrote it (epoch seconds, from the stream id), the status, attempts."""

    at: float
    status: str
    attempts: int


@dataclass(frozen=True)
class JobView:
    """A job as the audit sees it: its record (None when gone) and its status events, oldest first."""

    job_id: str
    record: JobRecord | None
    statuses: tuple[Status, ...]

    @property
    def status(self) -> str:
        """The record's status ("missing" when the record is gone)."""
        return self.record.status.value if self.record else "missing"

    @property
    def outcome(self) -> str:
        """The status, with the error code of a failed job ("failed/timeout")."""
        error = self.record.error if self.record else None
        return f"{self.status}/{error.code.value}" if error else self.status

    @property
    def files(self) -> set[str]:
        """The object keys the job's result lists."""
        result = (self.record.result if self.record else None) or {}
        return {str(f["key"]) for f in result.get("files", [])}

    @property
    def terminal_events(self) -> list[Status]:
        """Its status events into succeeded, failed or canceled."""
        return [s for s in self.statuses if s.status in ("succeeded", "failed", "canceled")]

    def first(self, status: str, after: float) -> Status | None:
        """Its first status event into `status` written after `after`."""
        return next((s for s in self.statuses if s.status == status and s.at > after), None)


def job_ids(r: Redis) -> set[str]:
    """Every job id stored in Redis (records, not their event streams)."""
    prefix = f"{redis_keys.PREFIX}:job:"
    found = (k.decode() for k in r.scan_iter(match=f"{prefix}*", count=1000))
    return {k.removeprefix(prefix) for k in found if not k.endswith(":events")}


def read_jobs(r: Redis, ids: list[str]) -> dict[str, JobView]:
    """Each job's record and status events, read in pipelined chunks."""
    views = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        pipe = r.pipeline(transaction=False)
        for job_id in chunk:
            pipe.hgetall(redis_keys.job(job_id))
            pipe.xrange(redis_keys.events(job_id))
        replies = pipe.execute()
        for i, job_id in enumerate(chunk):
            raw, entries = replies[2 * i], replies[2 * i + 1]
            record = JobRecord.from_redis(raw) if raw else None
            views[job_id] = JobView(job_id, record, tuple(_statuses(entries)))
    return views


def _statuses(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[Status]:
    """The status events among a job's stream entries."""
    out = []
    for entry_id, fields in entries:
        if fields.get(b"type") == b"status":
            data: dict[str, Any] = json.loads(fields[b"data"])
            ms = int(entry_id.split(b"-")[0])
            out.append(Status(ms / 1000, str(data["status"]), int(data.get("attempts", 0))))
    return out


def s3_client(env: dict[str, str]) -> Any:
    """A boto3 client for the soak's SeaweedFS, with the settings the workers use."""
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=env["LLMB_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=env["LLMB_S3_ACCESS_KEY"],
        aws_secret_access_key=env["LLMB_S3_SECRET_KEY"],
        config=config,
    )


def read_objects(env: dict[str, str]) -> dict[str, bool]:
    """Every object in the bucket, each with whether it is a whole PNG (read back in full)."""
    client, bucket = s3_client(env), env["LLMB_S3_BUCKET"]
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = str(item["Key"])
            body = cast(bytes, client.get_object(Bucket=bucket, Key=key)["Body"].read())
            found[key] = body.startswith(PNG_START) and body.endswith(PNG_END)
    return found
