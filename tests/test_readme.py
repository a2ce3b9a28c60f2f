"""The README's configuration table names every setting the code reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from shared.settings import Limits, Settings
from shared.vocabulary import JOB_ERROR_CODES, EventType

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_names() -> set[str]:
    names = {f"LLMB_{name.upper()}" for name in Settings.model_fields if name != "limits"}
    return names | {f"LLMB_LIMITS__{name.upper()}" for name in Limits.model_fields}


def test_configuration_table_matches_the_settings() -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `LLMB_")]
    documented = {name for row in rows for name in re.findall(r"`(LLMB_[A-Z0-9_]+)`", row.split("|")[1])}
    assert documented == settings_names()


def _line_after(marker: str) -> str:
    text = README.read_text()
    start = text.index(marker)
    return text[start : text.index("\n-", start) if "\n-" in text[start:] else len(text)]


def test_the_error_codes_the_readme_lists_are_the_codes_a_job_can_fail_with() -> None:
    listed = set(re.findall(r"`([a-z_]+)`", _line_after("the code one of:").split(".")[0]))
    assert listed == {code.value for code in JOB_ERROR_CODES}


def test_the_event_types_the_readme_lists_are_the_event_types() -> None:
    row = next(
        line for line in README.read_text().splitlines() if line.startswith("| `GET /v1/jobs/{id}/events`")
    )
    types = re.sub(r"\([^)]*\)", "", row.split("of the types:", 1)[1]).split(".")[0]
    listed = re.findall(r"`([a-z]+)`", types)
    assert set(listed) == {t.value for t in EventType}
