"""The README's minikube steps are the ones `make deploy` prints, in order, word for word."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# `NAME=${NAME:-default}` lines give the values the script's messages print by default.
DEFAULT = re.compile(r'^(\w+)="?\$\{\1:-([^}]*)\}', re.MULTILINE)
VARIABLE = re.compile(r"\$\{(\w+)\}")


def script_steps() -> list[str]:
    script = (REPO / "deploy" / "minikube.sh").read_text()
    defaults = dict(DEFAULT.findall(script))
    steps = re.findall(r'say "(\d+\. [^"]+)"', script)
    return [VARIABLE.sub(lambda m: defaults[m.group(1)], step) for step in steps]


def readme_steps() -> list[str]:
    section = (REPO / "README.md").read_text().split("## Deployment", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\s+(\d+\. .+?) — ", section, flags=re.MULTILINE)


def test_readme_lists_every_deploy_step_as_the_script_prints_it() -> None:
    steps = script_steps()
    assert len(steps) == 8
    assert readme_steps() == steps
