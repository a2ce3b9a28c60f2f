"""Jobs walked through every store command, on a real Redis: every key they leave matches the layout.

The layout is the table at the top of shared/store/lua/lib.lua (name, key pattern, Redis type); after
each command every key SCAN finds must match one of its patterns with its type, and every key a
command script names in its `--! keys:` line must be one of the table's names.
"""

from __future__ import annotations

import re
import time
from importlib import resources

import pytest
from redis import Redis

from shared.budgets import Budget, alert_caps
from shared.job_record import ErrorInfo, JobStatus, JobType
from shared.store import Idempotency, JobStore, Leases, Report
from shared.vocabulary import ErrorCode, EventType
from tests.fixtures.jobs import new_record

CHAT = JobType.CHAT
LUA = resources.files("shared.store").joinpath("lua")
_ROW = re.compile(r"^--\s+(\w+)\s+(\S+)\s+(hash|zset|list|string|stream|set)\s+\S")
_QUEUE = "|".join(q.value for q in JobType)


def layout() -> list[tuple[str, re.Pattern[str], str]]:
    """The table between `layout:` and `end layout` in lib.lua: (name, key pattern, type)."""
    text = LUA.joinpath("lib.lua").read_text()
    table = text.split("-- layout:\n", 1)[1].split("-- end layout", 1)[0]
    rows = []
    for line in table.splitlines():
        found = _ROW.match(line)
        assert found, f"not a layout row: {line!r}"
        name, pattern, kind = found.groups()
        parts = re.split(r"(<\w+>)", pattern)
        regex = "".join(
            (f"(?:{_QUEUE})" if p == "<q>" else r"[^:|]+") if p.startswith("<") else re.escape(p)
            for p in parts
        )
        rows.append((name, re.compile(f"^{regex}$"), kind))
    return rows


LAYOUT = layout()


def assert_keys_follow_the_layout(client: Redis, command: str) -> set[str]:
    """Every key in the database matches a documented pattern with the documented type; their names."""
    seen = set()
    for raw in client.scan_iter(count=1000):
        key = raw.decode()
        matches = [(name, kind) for name, pattern, kind in LAYOUT if pattern.match(key)]
        assert matches, f"after {command}: {key} is not in lib.lua's layout"
        kinds = {kind for _, kind in matches}
        assert client.type(key).decode() in kinds, f"after {command}: {key} is not a {kinds}"
        seen |= {name for name, _ in matches}
    return seen


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def lease() -> float:
    return time.time() + 30


def test_every_command_script_names_only_documented_keys() -> None:
    names = {name for name, _, _ in LAYOUT}
    scripts = [p for p in LUA.iterdir() if p.name.endswith(".lua")]
    job_scripts = 0
    for script in scripts:
        found = re.search(r"^--!\s*keys:(.*)$", script.read_text(), re.MULTILINE)
        named = set(found.group(1).split()) if found else set()
        if named & {"job", "waiting"}:  # a job command (the others keep webhooks, holds, batches)
            job_scripts += 1
            assert named <= names, f"{script.name} names undocumented keys {named - names}"
    assert job_scripts >= 5


def test_one_job_walks_every_command_and_each_key_it_touches_is_documented(store, redis_client) -> None:
    leases = Leases(redis_client, lease_ttl_s=30)
    seen: set[str] = set()
    record = new_record(CHAT, owner="t1", messages=[{"role": "user", "content": "hi"}])
    record = record.model_copy(
        update={
            "key_id": "k1",
            "deadline_at": time.time() + 600,
            "webhook": {"url": "https://example.test/hook", "events": ["started", "progress", "completed"]},
            "webhook_events": "started progress completed",
            "budgets": alert_caps(Budget(device_s=1.0, period="day"), Budget(tokens=10, period="month")),
        }
    )
    idem = Idempotency(tenant="t1", key_hash="ab" * 32, fingerprint="f", inflight_until=time.time() + 5)
    made = store.create(record, idempotency=idem).record
    seen |= assert_keys_follow_the_layout(redis_client, "create")

    claimed = store.claim_next(CHAT, holder="w1", lease_until=lease())
    assert claimed is not None
    assert claimed.id == made.id
    seen |= assert_keys_follow_the_layout(redis_client, "claim_next")

    data = {"step": 1, "total": 2}
    assert leases.report_many([Report(made.id, "w1", EventType.PROGRESS, data, data)]) == ["running"]
    seen |= assert_keys_follow_the_layout(redis_client, "report")

    assert leases.renew(made.id, CHAT, "w1")
    seen |= assert_keys_follow_the_layout(redis_client, "renew")

    usage = {"device_s": 2.0, "prompt_tokens": 5, "completion_tokens": 7}
    assert store.succeed(made.id, CHAT, holder="w1", result={"text": "x"}, usage=usage).ok
    assert store.get(made.id).status == JobStatus.SUCCEEDED
    seen |= assert_keys_follow_the_layout(redis_client, "succeed")
    seen |= walk_the_other_commands(store, redis_client)
    assert seen >= {"job", "events", "waiting", "running", "fair", "finished", "celery_queue", "webhooks"}
    assert seen >= {"tenant_waiting", "active", "owner_jobs", "sequence", "idem", "deadlines", "counts"}
    assert seen >= {"waits", "runs", "usage_totals", "usage_hour", "spend", "alerts"}


def walk_the_other_commands(store: JobStore, client: Redis) -> set[str]:
    """Cancel, start, start_mate, hand back, release lost (reap), fail and expire, each on its own job."""
    seen = set()
    canceled = store.create(new_record(CHAT, messages=[{"role": "user", "content": "a"}])).record
    assert store.cancel(canceled.id).status == JobStatus.CANCELED
    seen |= assert_keys_follow_the_layout(client, "cancel")

    handed = store.create(new_record(CHAT, messages=[{"role": "user", "content": "b"}])).record
    assert store.start(handed.id, CHAT, holder="w2", lease_until=lease()) is not None
    seen |= assert_keys_follow_the_layout(client, "start")
    assert store.hand_back(handed.id, CHAT, holder="w2")
    seen |= assert_keys_follow_the_layout(client, "hand_back")
    assert store.start_mate(handed.id, CHAT, holder="w3", lease_until=lease()).ok
    seen |= assert_keys_follow_the_layout(client, "start_mate")
    error = ErrorInfo(code=ErrorCode.INTERNAL, message="boom")
    assert store.fail(handed.id, CHAT, error, holder="w3").ok
    seen |= assert_keys_follow_the_layout(client, "fail")

    lost = store.create(new_record(CHAT, messages=[{"role": "user", "content": "c"}])).record
    assert store.start(lost.id, CHAT, holder="gone", lease_until=time.time() - 1) is not None
    assert store.reap(CHAT, max_attempts=2) == [lost.id]  # back in line
    seen |= assert_keys_follow_the_layout(client, "reap (requeue)")
    assert store.start(lost.id, CHAT, holder="gone", lease_until=time.time() - 1) is not None
    assert store.reap(CHAT, max_attempts=2) == [lost.id]  # its last attempt: failed worker_lost
    assert store.get(lost.id).status == JobStatus.FAILED
    seen |= assert_keys_follow_the_layout(client, "reap (fail)")

    overdue = new_record(CHAT, messages=[{"role": "user", "content": "d"}])
    overdue = store.create(overdue.model_copy(update={"deadline_at": time.time() + 60})).record
    assert store.expire_overdue(time.time() + 61) == [overdue.id]
    assert store.get(overdue.id).status == JobStatus.CANCELED
    seen |= assert_keys_follow_the_layout(client, "expire")
    return seen


def test_each_command_script_and_shared_helper_is_under_40_lines() -> None:
    commands = [p for p in LUA.iterdir() if p.name.endswith(".lua") and p.name != "lib.lua"]
    for script in commands:
        assert len(script.read_text().splitlines()) < 40, script.name
    helpers = re.findall(r"^local function (\w+).*?^end$", LUA.joinpath("lib.lua").read_text(), re.M | re.S)
    assert {"guard", "begin_run", "end_job", "enter_index", "schedule_webhook", "count_usage"} <= set(helpers)
    for body in re.findall(r"^local function .*?^end$", LUA.joinpath("lib.lua").read_text(), re.M | re.S):
        assert len(body.splitlines()) < 40, body.splitlines()[0]
