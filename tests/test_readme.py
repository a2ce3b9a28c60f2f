"""The README's configuration table names every setting the code reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from shared.settings import Limits, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_names() -> set[str]:
    names = {f"LLMB_{name.upper()}" for name in Settings.model_fields if name != "limits"}
    return names | {f"LLMB_LIMITS__{name.upper()}" for name in Limits.model_fields}


def test_configuration_table_matches_the_settings() -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `LLMB_")]
    documented = {name for row in rows for name in re.findall(r"`(LLMB_[A-Z0-9_]+)`", row.split("|")[1])}
    assert documented == settings_names()
