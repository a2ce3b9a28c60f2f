"""The soak's batch and usage rules on made-up ends: each way of breaking them is a violation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily

from devtools.chaos.batch import INVALID, BatchEnd, BatchRun, violations
from devtools.chaos.usage import ALL, UsageCheck, _metrics

RUN = BatchRun("batch_1", "file-in", ("line-0000", "line-0001", INVALID), at=0.0)
STORED = {f"files/t/{f}/content" for f in ("file-in", "file-1o", "file-1e")}


def line(custom_id: str, status: int, job: str | None) -> dict[str, Any]:
    return {"custom_id": custom_id, "response": {"status_code": status, "request_id": job, "body": {}}}


def end(output: list[dict[str, Any]], errors: list[dict[str, Any]], **counts: int) -> BatchEnd:
    counts = {"total": 3, "completed": len(output), "failed": len(errors), **counts}
    batch = {"status": "completed", "output_file_id": "file-1o", "error_file_id": "file-1e"}
    return BatchEnd(RUN, {**batch, "request_counts": counts}, 1.0, output, errors, stored=STORED)


OK = {"j0": "succeeded", "j1": "succeeded"}
GOOD_OUT = [line("line-0000", 200, "j0"), line("line-0001", 200, "j1")]
GOOD_ERR = [line(INVALID, 400, None)]


def test_a_batch_with_every_line_once_and_counts_matching_holds() -> None:
    assert violations(end(GOOD_OUT, GOOD_ERR), OK) == []


def test_a_line_twice_or_missing_breaks_the_rule() -> None:
    doubled = end([*GOOD_OUT, line("line-0001", 200, "j1")], GOOD_ERR, completed=3, total=3)
    assert any("line-0001 is in the files 2 times" in v for v in violations(doubled, OK))
    missing = end(GOOD_OUT[:1], GOOD_ERR, total=3)
    assert any("line-0001 is in the files 0 times" in v for v in violations(missing, OK))


def test_the_invalid_line_must_be_in_the_error_file_with_its_400() -> None:
    found = violations(end([*GOOD_OUT, line(INVALID, 200, None)], []), OK)
    assert f"{INVALID} is not in the error file with a 400" in found


def test_request_counts_must_agree_with_the_files() -> None:
    found = violations(end(GOOD_OUT, GOOD_ERR, completed=1, failed=2), OK)
    assert "request_counts completed is 1, the files say 2" in found


def test_a_line_in_the_wrong_file_for_its_job_breaks_the_rule() -> None:
    found = violations(end(GOOD_OUT, GOOD_ERR), {"j0": "succeeded", "j1": "failed"})
    assert "output line of job j1, which is failed" in found


def test_the_bucket_must_hold_exactly_the_batch_files() -> None:
    extra = end(GOOD_OUT, GOOD_ERR)
    extra.stored = {*STORED, "files/t/file-2o/content"}
    assert any("the bucket holds the files" in v for v in violations(extra, OK))


def usage(summed: dict[str, float], reported: dict[str, float]) -> UsageCheck:
    check = UsageCheck(("a", "b"), jobs_read=2)
    check.summed, check.reported, check.metrics = {ALL: summed}, {ALL: reported}, {ALL: summed}
    return check


def test_usage_totals_must_equal_the_jobs_sum_device_seconds_within_rounding() -> None:
    jobs = {"jobs": 2, "prompt_tokens": 7, "device_s": 1.5}
    assert usage(jobs, {**jobs, "device_s": 1.5 * (1 + 1e-9)}).violations() == []
    assert usage(jobs, {**jobs, "device_s": 1.5 * (1 + 1e-5)}).violations() != []
    assert usage(jobs, {**jobs, "jobs": 3}).violations() == ["all jobs: jobs sum to 2, GET /v1/usage says 3"]
    assert usage(jobs, {**jobs, "prompt_tokens": 6}).violations() != []


class Counters:
    """Usage counters as api/metrics.py yields them."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, amounts in (("jobs", (3, 2)), ("device_seconds", (0.25, 0.5))):
            family = CounterMetricFamily(f"llmb_usage_{name}", name, labels=["type"])
            for job_type, amount in zip(("image", "embed"), amounts, strict=True):
                family.add_metric([job_type], amount)
            yield family


def test_the_metrics_counters_are_read_by_type() -> None:
    registry = CollectorRegistry()
    registry.register(Counters())
    found = _metrics(generate_latest(registry).decode())
    assert found["type image"] == {"jobs": 3.0, "device_s": 0.25}
    assert found[ALL]["jobs"] == 5.0
    assert found[ALL]["device_s"] == 0.75
