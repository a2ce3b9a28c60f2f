"""The 80 % budget alert, decided with the spend increment in finish.lua, on a real Redis."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest
from redis import Redis

from shared import redis_keys
from shared.budgets import Budget, alert_caps, period_id
from shared.job_record import JobType
from shared.store import JobStore, commands
from tests.fixtures.jobs import new_record

CHAT = JobType.CHAT
DAY = Budget(device_s=10.0, period="day")
MONTH_TOKENS = Budget(tokens=1000, period="month")


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def end_job(
    store: JobStore, usage: dict[str, float], *, key: Budget | None = DAY, tenant: Budget | None = None
) -> None:
    """A chat job of key k1 (tenant t1) that counts against `key` and `tenant`, run and ended with `usage`."""
    record = new_record(CHAT, owner="t1", messages=[{"role": "user", "content": "hi"}])
    made = store.create(record.model_copy(update={"key_id": "k1", "budgets": alert_caps(key, tenant)})).record
    assert store.start(made.id, CHAT, holder="w1", lease_until=time.time() + 30) is not None
    assert store.succeed(made.id, CHAT, holder="w1", result={"text": "x"}, usage=usage).ok


def scheduled(redis_client: Redis) -> list[str]:
    members = redis_client.zrange(redis_keys.webhook_deliveries(), 0, -1)
    return sorted(m.decode() for m in members if m.decode().endswith("|budget.threshold"))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "budget alert" in r.getMessage()
    ]


def test_two_ends_past_80_percent_alert_exactly_once(store, redis_client, caplog) -> None:
    caplog.set_level(logging.WARNING)
    end_job(store, {"device_s": 5.0})  # 50 %: nothing
    assert warnings(caplog) == []
    end_job(store, {"device_s": 3.5})  # 85 %: the alert
    end_job(store, {"device_s": 1.0})  # 95 %: already told this period
    end_job(store, {"device_s": 2.0})  # past the cap: still once
    day = period_id("day", time.time())
    (line,) = warnings(caplog)
    assert line == f"budget alert: key k1 passed 80% of its day budget's device_s in {day} (8.5 of 10)"
    assert scheduled(redis_client) == [f"{day}:key:k1|budget.threshold"]
    alert = store.budget_alert(f"{day}:key:k1")
    assert alert is not None
    assert (alert["scope"], alert["name"], alert["measure"], alert["period"]) == (
        "key",
        "k1",
        "device_s",
        "day",
    )
    assert (alert["spent"], alert["limit"], alert["threshold"]) == (8.5, 10, 0.8)
    assert store.stats(worker_ttl_s=30).budget_alerts == {("key", "device_s"): 1}


def test_spend_below_80_percent_alerts_nothing(store, redis_client, caplog) -> None:
    caplog.set_level(logging.WARNING)
    end_job(store, {"device_s": 4.0, "prompt_tokens": 300}, tenant=MONTH_TOKENS)
    end_job(store, {"device_s": 3.9, "completion_tokens": 400}, tenant=MONTH_TOKENS)  # 79 % and 70 %
    end_job(store, {"device_s": 50.0}, key=None)  # a job that counts against no budget
    assert warnings(caplog) == []
    assert scheduled(redis_client) == []
    assert store.stats(worker_ttl_s=30).budget_alerts == {}


def test_a_tenant_s_token_budget_alerts_for_the_tenant(store, redis_client, caplog) -> None:
    caplog.set_level(logging.WARNING)
    end_job(store, {"prompt_tokens": 500, "completion_tokens": 300}, key=None, tenant=MONTH_TOKENS)
    month = period_id("month", time.time())
    (line,) = warnings(caplog)
    assert line == f"budget alert: tenant t1 passed 80% of its month budget's tokens in {month} (800 of 1000)"
    assert scheduled(redis_client) == [f"{month}:tenant:t1|budget.threshold"]
    assert store.stats(worker_ttl_s=30).budget_alerts == {("tenant", "tokens"): 1}


def test_the_next_period_alerts_again(store, redis_client, caplog, monkeypatch) -> None:
    caplog.set_level(logging.WARNING)
    end_job(store, {"device_s": 9.0})
    tomorrow = time.time() + 86400
    monkeypatch.setattr(commands, "time", SimpleNamespace(time=lambda: tomorrow))
    end_job(store, {"device_s": 5.0})  # a new day: 50 %
    assert len(warnings(caplog)) == 1
    end_job(store, {"device_s": 4.0})  # 90 % of the new day's
    days = [period_id("day", t) for t in (time.time(), tomorrow)]
    assert [line.split(" in ")[1].split()[0] for line in warnings(caplog)] == days
    assert scheduled(redis_client) == sorted(f"{d}:key:k1|budget.threshold" for d in days)
    assert store.stats(worker_ttl_s=30).budget_alerts == {("key", "device_s"): 2}
