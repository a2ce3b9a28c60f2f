"""deploy/prometheus/alerts.yaml keeps Prometheus' rule file format (a strict model written from its docs),
our alerting policy, and promtool's checks and unit tests where promtool is installed."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from tests.observability.expressions import PROMETHEUS, parse, rules

# From Prometheus' docs (configuration/recording_rules.md, alerting_rules.md) and its model package.
Duration = Annotated[
    str, StringConstraints(pattern=r"^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$", min_length=1)
]
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
SEVERITIES = {"info", "warning", "critical"}


class Rule(BaseModel):
    """An alerting rule or a recording rule, nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    alert: Annotated[str, StringConstraints(min_length=1)] | None = None
    record: MetricName | None = None
    expr: str
    for_: Duration | None = Field(default=None, alias="for")
    keep_firing_for: Duration | None = None
    labels: dict[LabelName, str] = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)

    @field_validator("expr")
    @classmethod
    def _parses(cls, expr: str) -> str:
        parse(expr)
        return expr

    @model_validator(mode="after")
    def _alert_or_record(self) -> Rule:
        if (self.alert is None) == (self.record is None):
            raise ValueError("a rule has exactly one of alert and record")
        if self.record is not None and (self.for_ or self.keep_firing_for or self.annotations):
            raise ValueError("a recording rule has no for, keep_firing_for or annotations")
        return self


class RuleGroup(BaseModel):
    """A group of rules evaluated together."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1)]
    interval: Duration | None = None
    query_offset: Duration | None = None
    limit: int | None = None
    labels: dict[LabelName, str] = Field(default_factory=dict)
    rules: list[Rule]


class RuleFile(BaseModel):
    """A Prometheus rule file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    groups: list[RuleGroup]

    @model_validator(mode="after")
    def _unique_groups(self) -> RuleFile:
        names = [g.name for g in self.groups]
        if len(names) != len(set(names)):
            raise ValueError(f"group names repeat: {names}")
        return self


def test_the_rules_file_keeps_prometheus_format() -> None:
    parsed = RuleFile.model_validate(rules())  # raises on a field Prometheus would refuse
    assert parsed.groups
    assert all(group.rules for group in parsed.groups)


def _alerts() -> list[Rule]:
    return [r for g in RuleFile.model_validate(rules()).groups for r in g.rules if r.alert]


def test_the_alerts_the_operator_docs_promise_exist() -> None:
    names = {r.alert for r in _alerts()}
    assert names == {"LLMBQueueBacklog", "LLMBJobFailureRatio", "LLMBQueueWithoutWorker", "LLMBApiErrorRatio"}


@pytest.mark.parametrize("alert", _alerts(), ids=lambda r: str(r.alert))
def test_every_alert_waits_has_a_severity_and_says_what_and_why(alert: Rule) -> None:
    assert alert.for_ not in (None, "0"), "an alert without `for` pages on one bad scrape"
    assert alert.labels.get("severity") in SEVERITIES
    assert {"summary", "description"} <= set(alert.annotations)


def _misspelt_annotations(data: dict[str, Any]) -> None:
    rule = data["groups"][0]["rules"][0]
    rule["annotation"] = rule.pop("annotations")


def _duration_in_words(data: dict[str, Any]) -> None:
    data["groups"][0]["rules"][0]["for"] = "10 minutes"


def _alert_and_record(data: dict[str, Any]) -> None:
    data["groups"][0]["rules"][0]["record"] = "llmb:waiting:max"


def _broken_expression(data: dict[str, Any]) -> None:
    data["groups"][0]["rules"][0]["expr"] = "max by (queue (llmb_queue_waiting) > 50"


def _group_twice(data: dict[str, Any]) -> None:
    data["groups"].append(copy.deepcopy(data["groups"][0]))


def _number_as_label(data: dict[str, Any]) -> None:
    data["groups"][0]["rules"][0]["labels"]["tier"] = 1


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_misspelt_annotations, "annotation"),
        (_duration_in_words, "for"),
        (_alert_and_record, "exactly one of alert and record"),
        (_broken_expression, "expr"),
        (_group_twice, "group names repeat"),
        (_number_as_label, "labels.tier"),
    ],
    ids=lambda b: getattr(b, "__name__", ""),
)
def test_the_model_refuses_what_prometheus_refuses(breakage: Any, expected: str) -> None:
    data = copy.deepcopy(rules())
    breakage(data)
    with pytest.raises(ValidationError, match=expected):
        RuleFile.model_validate(data)


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus; make system-deps)"
)


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
@pytest.mark.parametrize(
    "command",
    [
        ("check", "rules", "alerts.yaml"),
        ("test", "rules", "alerts.test.yaml"),
        ("check", "config", "prometheus.yml"),
    ],
    ids=["check-rules", "unit-tests", "check-config"],
)
def test_promtool_accepts_the_files(command: tuple[str, ...]) -> None:
    done = _promtool(*command)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_unit_tests_notice_a_changed_threshold(tmp_path: Path) -> None:
    """The unit tests would fail if the backlog threshold moved: they test the rules, not just run them."""
    shutil.copy(PROMETHEUS / "alerts.test.yaml", tmp_path)
    text = (PROMETHEUS / "alerts.yaml").read_text(encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(
        text.replace("(llmb_queue_waiting) > 50", "(llmb_queue_waiting) > 90")
    )
    done = _promtool("test", "rules", "alerts.test.yaml", cwd=tmp_path)
    assert done.returncode != 0
    assert "LLMBQueueBacklog" in done.stdout + done.stderr
