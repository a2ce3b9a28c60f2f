"""The queue's order (shared/store/order.py): priority classes, fair share between tenants, aging.

Each test posts jobs the way the API does and claims them the way a worker's delivery does
(claim_next), then checks the order the claims came in: exact, as the rule is exact.
"""

from __future__ import annotations

import time

import pytest
from redis import Redis

from shared.job_record import JobRecord, JobType
from shared.store import JobStore
from shared.store.order import Aging, class_base
from tests.fixtures.jobs import new_record

IMAGE = JobType.IMAGE
NO_AGING = Aging(after_s=10**9, every=1)


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def post(store: JobStore, tenant: str, *, priority: str = "interactive", weight: float = 1.0) -> JobRecord:
    record = new_record(IMAGE, owner=tenant).model_copy(update={"priority": priority})
    return store.create(record, weight=weight).record


def claim_all(store: JobStore, aging: Aging = NO_AGING) -> list[JobRecord]:
    claimed = []
    while True:
        record = store.claim_next(IMAGE, holder="w", lease_until=time.time() + 60, aging=aging)
        if record is None:
            return claimed
        claimed.append(record)


def test_a_late_tenant_takes_turns_with_a_flooding_one_instead_of_waiting_behind_it(store) -> None:
    flood = [post(store, "a").id for _ in range(500)]
    late = [post(store, "b").id for _ in range(5)]
    order = [r.id for r in claim_all(store)]
    assert sorted(order) == sorted(flood + late)  # each job claimed once
    # The README's rule: with equal weights, B's jobs alternate with A's from where the line stood when
    # B posted (A's first job, of the same turn, arrived first), so all 5 start before A's 6th.
    assert [order.index(j) for j in late] == [1, 3, 5, 7, 9]
    assert [j for j in order if j in flood] == flood  # A's own jobs in A's arrival order
    assert [j for j in order if j in late] == late


def test_weights_three_to_one_interleave_three_to_one(store) -> None:
    for _ in range(30):
        post(store, "heavy", weight=3)
    for _ in range(10):
        post(store, "light", weight=1)
    owners = [r.owner for r in claim_all(store)]
    for start in range(0, 40, 4):  # every window of four claims: three heavy, one light
        assert sorted(owners[start : start + 4]) == ["heavy", "heavy", "heavy", "light"], owners


def test_a_tenant_that_was_idle_starts_at_the_line_s_current_turn_not_ahead_of_it(store) -> None:
    for _ in range(3):
        post(store, "a")
    claim_all(store)  # a's turns are spent; the line is empty
    for _ in range(3):
        post(store, "a")
    post(store, "b")
    owners = [r.owner for r in claim_all(store)]
    assert owners.index("b") <= 1  # b joins at the current turn, not after a's past jobs


def test_interactive_jobs_are_claimed_before_any_waiting_batch_job(store) -> None:
    batch = [post(store, "a", priority="batch").id for _ in range(20)]
    interactive = [post(store, "b").id for _ in range(3)]
    order = [r.id for r in claim_all(store)]
    assert order[:3] == interactive
    assert order[3:] == batch


def test_batch_lines_of_tenants_share_the_batch_class_fairly(store) -> None:
    a = [post(store, "a", priority="batch").id for _ in range(10)]
    b = [post(store, "b", priority="batch").id for _ in range(2)]
    order = [r.id for r in claim_all(store)]
    assert max(order.index(j) for j in b) <= 3
    assert [j for j in order if j in a] == a


def test_aged_batch_work_takes_one_claim_in_every_n_while_interactive_jobs_wait(store) -> None:
    batch = [post(store, "a", priority="batch").id for _ in range(4)]
    interactive = [post(store, "b").id for _ in range(12)]
    order = [r.id for r in claim_all(store, Aging(after_s=0, every=4))]
    classes = ["batch" if j in batch else "interactive" for j in order]
    # Every 4th claim made while an interactive job led the line went to the aged batch work.
    assert classes[:8] == ["interactive"] * 3 + ["batch"] + ["interactive"] * 3 + ["batch"]
    assert sorted(order) == sorted(batch + interactive)


def test_batch_work_younger_than_the_aging_time_waits_for_interactive_work(store) -> None:
    batch = [post(store, "a", priority="batch").id for _ in range(2)]
    interactive = [post(store, "b").id for _ in range(8)]
    order = [r.id for r in claim_all(store, Aging(after_s=3600, every=2))]
    assert order == interactive + batch


def test_a_handed_back_job_keeps_its_place_in_the_fair_order(store) -> None:
    a1, a2 = post(store, "a"), post(store, "a")
    b1 = post(store, "b")
    first = store.claim_next(IMAGE, holder="w1", lease_until=time.time() + 60, aging=NO_AGING)
    assert first is not None
    assert first.id == a1.id
    assert store.hand_back(a1.id, IMAGE, holder="w1")
    assert [r.id for r in claim_all(store)] == [a1.id, b1.id, a2.id]


def test_a_waiting_job_s_position_is_its_place_in_the_fair_order(store) -> None:
    flood = [post(store, "a") for _ in range(50)]
    late = post(store, "b")
    assert store.position(store.get(late.id)) == 2  # behind A's first job only, not its 50
    assert store.position(store.get(flood[-1].id)) == 51
    batch = post(store, "c", priority="batch")
    assert store.position(store.get(batch.id)) == 52


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown priority"):
        class_base("urgent")


def test_tenant_weights_come_as_json_and_must_be_positive(monkeypatch) -> None:
    from pydantic import ValidationError

    from shared.settings import Settings

    monkeypatch.setenv("LLMB_TENANT_WEIGHTS", '{"research": 3}')
    settings = Settings()
    assert (settings.weight_of("research"), settings.weight_of("anyone")) == (3.0, 1.0)
    hash(settings)  # settings stay hashable (cached documents are keyed by them)
    monkeypatch.setenv("LLMB_TENANT_WEIGHTS", '{"research": 0}')
    with pytest.raises(ValidationError, match="weight must be above 0"):
        Settings()
