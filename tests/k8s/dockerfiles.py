"""Reading Dockerfiles, .dockerignore and pip requirement files the way the build would."""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

from tests.k8s.manifests import REPO

DOCKER = REPO / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
Instruction = tuple[str, str]


def instructions(dockerfile: Path) -> list[Instruction]:
    """(KEYWORD, arguments) for each instruction, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    return [
        (words[0].upper(), words[1] if len(words) > 1 else "")
        for words in (s.split(None, 1) for s in logical)
    ]


def final_stage(dockerfile: Path) -> list[Instruction]:
    """The instructions after the last FROM: what the image that ships is made of."""
    steps = instructions(dockerfile)
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def copy_sources(dockerfile: Path) -> list[str]:
    """Paths in the build context that COPY and ADD read (copies from other stages left out)."""
    sources: list[str] = []
    for keyword, args in instructions(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        words = shlex.split(args)
        if any(w.startswith("--from") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources += paths[:-1]
    return sources


def env_names(dockerfile: Path) -> list[str]:
    """Names the Dockerfile's ENV instructions set."""
    return [
        word.split("=", 1)[0]
        for keyword, args in instructions(dockerfile)
        if keyword == "ENV"
        for word in shlex.split(args)
        if "=" in word
    ]


def ignore_patterns() -> list[str]:
    """The patterns of the repository's .dockerignore, in order."""
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `path` (or a folder above it) out of the build context."""
    parts = Path(path.rstrip("/")).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        candidates = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not negated
    return excluded


def requirement_names(path: Path) -> set[str]:
    """Normalized project names a requirements file installs, following `-r` includes."""
    names: set[str] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            names |= requirement_names(path.parent / line.split(None, 1)[1])
        elif line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def pinned_version(path: Path, name: str) -> str | None:
    """The version `name==X` pins in a requirements file, or None."""
    match = re.search(rf"^{re.escape(name)}==(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return match[1] if match else None
