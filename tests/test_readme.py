"""The README's claims: its settings table, error codes and event types, and examples that work as shown."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

from shared.errors import InputError
from shared.settings import Limits, Settings
from shared.vocabulary import JOB_ERROR_CODES, EventType
from shared.webhook_targets import check_url, parse_nets

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


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_batch_snippet_imports_the_modules_it_uses() -> None:
    snippet = next(block for block in _blocks("python") if "client.batches.create" in block)
    tree = ast.parse(snippet)
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name)]
    made = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    unbound = {n.id for n in names if n.id not in made and not hasattr(builtins, n.id)}
    assert unbound - imported == {"client"}  # the OpenAI client made in the snippet above
    assert {"json", "time"} <= imported


def test_the_webhook_examples_say_what_the_rules_accept() -> None:
    text = README.read_text()
    example = text.index("--webhook https://hooks.example.com/llmb \\")
    fence = text.rindex("```bash", 0, example)
    before = text[text.rindex("\n\n", 0, fence - 2) : fence]
    assert "not resolve to a public address" in " ".join(before.split())
    assert "LLMB_WEBHOOK_ALLOW_NETS=127.0.0.0/8" in before
    # The URL it says to use locally passes the rules under that setting; the stand-in host does not.
    local = re.search(r"its URL then `(http://[^`]+)`", before)
    assert local is not None
    assert check_url(local.group(1), allowed=parse_nets("127.0.0.0/8")).addresses == ("127.0.0.1",)
    with pytest.raises(InputError, match="must reach a public address"):
        check_url("https://hooks.example.com/llmb", allowed=[], resolve=_unresolvable)


def _unresolvable(host: str, port: int) -> list[str]:
    raise OSError(f"{host} does not resolve")


def test_the_readme_says_a_handed_back_job_s_next_run_is_an_attempt() -> None:
    text = README.read_text()
    assert "attempts` unchanged" not in text
    assert "a job handed back once ends with `attempts` 2" in text  # tests/integration/test_reliability.py
