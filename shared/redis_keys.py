"""Every Redis key name the service uses, in one place; an id not shaped as one is NotFoundError."""

from __future__ import annotations

from shared.ids import key_part
from shared.vocabulary import JobType

PREFIX = "llmb"


def job(job_id: str) -> str:
    """Hash holding one job's record."""
    return f"{PREFIX}:job:{key_part(job_id, 'job')}"


def job_prefix() -> str:
    """What every job hash's name starts with (a script that picks its job appends the id)."""
    return f"{PREFIX}:job:"


def events(job_id: str) -> str:
    """Stream holding one job's event history (status, progress, tokens)."""
    return f"{PREFIX}:job:{key_part(job_id, 'job')}:events"


def waiting(job_type: JobType) -> str:
    """Sorted set of a queue's waiting job ids, scored by their place in line (shared/store/order.py)."""
    return f"{PREFIX}:queue:{job_type.value}:waiting"


def running(job_type: JobType) -> str:
    """Sorted set of a queue's running job ids, scored by lease expiry."""
    return f"{PREFIX}:queue:{job_type.value}:running"


def fair_share(job_type: JobType) -> str:
    """Hash of a queue's fair-share tags: each class's virtual time, each tenant's last finish tag."""
    return f"{PREFIX}:queue:{job_type.value}:fair"


def interactive_wakes(job_type: JobType) -> str:
    """List of wake-ups for interactive jobs that arrive behind batch jobs (worker/interactive.py)."""
    return f"{PREFIX}:queue:{job_type.value}:wakes"


def workers(job_type: JobType) -> str:
    """Sorted set of the workers consuming a queue, scored by last heartbeat."""
    return f"{PREFIX}:queue:{job_type.value}:workers"


def owner_jobs(owner: str) -> str:
    """Sorted set of an owner's job ids, scored by creation time."""
    return f"{PREFIX}:owner:{key_part(owner, 'tenant')}:jobs"


def sequence() -> str:
    """Counter giving each enqueued job its place in line."""
    return f"{PREFIX}:seq"


def celery_queue(job_type: JobType) -> str:
    """The Redis list Celery (and KEDA) read for a queue: the queue's own name."""
    return job_type.value


def hub_wake(process: str) -> str:
    """Stream an API process's event hub reads to learn of new subscriptions at once."""
    return f"{PREFIX}:hub:{process}:wake"


def job_of_events(key: str) -> str:
    """The job id inside an events stream's key (the inverse of `events`)."""
    return key.removeprefix(f"{PREFIX}:job:").removesuffix(":events")


def api_key(key_id: str) -> str:
    """Hash holding one API key's record (its secret only as a hash)."""
    return f"{PREFIX}:apikey:{key_part(key_id, 'key')}"


def api_keys() -> str:
    """Sorted set of every API key's id, scored by creation time."""
    return f"{PREFIX}:apikeys"


def key_active_jobs(key_id: str) -> str:
    """Sorted set of a key's queued and running job ids, scored by creation time (its active-job cap)."""
    return f"{PREFIX}:apikey:{key_part(key_id, 'key')}:active"


def tenant_waiting(tenant: str, job_type: JobType) -> str:
    """Sorted set of a tenant's waiting job ids in one queue, scored by creation time (its waiting cap)."""
    return f"{PREFIX}:tenant:{tenant}:waiting:{job_type.value}"


def idempotency(tenant: str, key_hash: str) -> str:
    """Hash remembering which job an Idempotency-Key made, for one tenant (the key as its SHA-256)."""
    return f"{PREFIX}:idem:{key_part(tenant, 'tenant')}:{key_hash}"


def no_idempotency() -> str:
    """The key named when a request carries no Idempotency-Key (the create script never writes it)."""
    return f"{PREFIX}:idem:-"


def deadlines() -> str:
    """Sorted set of unfinished jobs with a deadline, scored by it (epoch seconds)."""
    return f"{PREFIX}:deadlines"


def webhook_deliveries() -> str:
    """Sorted set of webhook deliveries (`job_id|event`) to make, scored by when to try next."""
    return f"{PREFIX}:webhooks:due"


def webhook_attempts(job_id: str) -> str:
    """List of a job's webhook delivery attempts (JSON), oldest first."""
    return f"{PREFIX}:job:{key_part(job_id, 'job')}:webhooks"


def webhook_secret(tenant: str) -> str:
    """Hash of a tenant's webhook signing secret (and the previous one while rotating)."""
    return f"{PREFIX}:tenant:{key_part(tenant, 'tenant')}:webhook-secret"


def finished(job_type: JobType) -> str:
    """Sorted set of a queue's recently finished job ids, scored by when (the wait estimate's history)."""
    return f"{PREFIX}:queue:{job_type.value}:finished"


def finished_counts() -> str:
    """Hash counting every job that ended, by `type|status|error code` (the metrics' source)."""
    return f"{PREFIX}:stats:finished"


def duration_histogram(kind: str, job_type: JobType) -> str:
    """Hash of one duration histogram (`wait`: created to started, `run`: started to finished) of a type."""
    return f"{PREFIX}:stats:{kind}:{job_type.value}"


def key_holds(key_id: str) -> str:
    """Sorted set of the event streams and long-waits a key holds open, scored by lease expiry."""
    return f"{PREFIX}:key:{key_id}:holds"


def tenant_holds(tenant: str) -> str:
    """Sorted set of the event streams and long-waits a tenant's keys hold open, scored by lease expiry."""
    return f"{PREFIX}:tenant:{tenant}:holds"


def usage_hour(hour: int) -> str:
    """Hash of one hour's usage totals (hour = epoch seconds // 3600), by `tenant|key|type|measure`."""
    return f"{PREFIX}:usage:{hour}"


def spend_prefix() -> str:
    """Prefix of the hashes of spend per period, `<prefix><period>:key:<id>` and `...:tenant:<name>`."""
    return f"{PREFIX}:spend:"


def budget_alert_counts() -> str:
    """Hash counting budget alerts by `scope|measure` (the metrics' source; finish.lua writes it)."""
    return f"{spend_prefix()}alerts"


def spend(period: str, kind: str, name: str) -> str:
    """Hash of what a key or tenant (`kind`) used in one period (`d20260131`, `m202601`): device_s, tokens."""
    return f"{spend_prefix()}{period}:{kind}:{name}"


def usage_totals() -> str:
    """Hash of all-time usage totals by `type|tenant|measure` (the metrics' source)."""
    return f"{PREFIX}:stats:usage"
