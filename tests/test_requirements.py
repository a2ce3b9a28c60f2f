"""requirements/*.txt agree with pyproject.toml, the source of every dependency (no network needed).

Each install profile of [tool.llmb.requirements] is one file that `make requirements` compiles: exact
pins with `# via` annotations, every direct requirement pinned within pyproject's range, nothing
pyproject no longer asks for, one version of a package across files, no model library in the API's
and no CUDA package anywhere.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "requirements"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROFILES: dict[str, list[str]] = PYPROJECT["tool"]["llmb"]["requirements"]
COMMAND = "make requirements"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)\s+# via (?P<via>\S.*)$")
FROM_PYPROJECT = "llm-backend (pyproject.toml)"
MODEL_LIBRARIES = {"torch", "diffusers", "transformers", "sentence-transformers", "accelerate"}
CUDA = re.compile(r"^(nvidia-|cuda-|triton$)")


def requirement_lines(profile: str) -> list[str]:
    """The lines of a compiled file that install something (comments and blank lines left out)."""
    text = (REQUIREMENTS / f"{profile}.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def pins(profile: str) -> list[tuple[str, str, str]]:
    """(normalized name, version, via) of each pinned line."""
    found = [PIN.match(line) for line in requirement_lines(profile)]
    return [(canonicalize_name(m["name"]), m["version"], m["via"]) for m in found if m]


def direct(profile: str) -> list[Requirement]:
    """What pyproject asks for in a profile: the base dependencies and those of its extras."""
    project = PYPROJECT["project"]
    raw = project["dependencies"] + [
        r for e in PROFILES[profile] for r in project["optional-dependencies"][e]
    ]
    return [r for r in map(Requirement, raw) if r.marker is None or r.marker.evaluate({"extra": ""})]


def test_each_profile_is_one_compiled_file_and_nothing_else() -> None:
    assert sorted(p.stem for p in REQUIREMENTS.glob("*.txt")) == sorted(PROFILES)
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    assert [e for chosen in PROFILES.values() for e in chosen if e not in extras] == []
    # The first profile is compiled first and constrains the others, so it must hold every extra.
    assert set(next(iter(PROFILES.values()))) == extras


@pytest.mark.parametrize("profile", PROFILES)
def test_the_header_names_the_command_that_regenerates_it(profile: str) -> None:
    header = (REQUIREMENTS / f"{profile}.txt").read_text(encoding="utf-8").splitlines()[:8]
    assert f"#    {COMMAND}" in header
    assert re.search(r"^requirements:.*## ", (REPO / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_line_is_an_exact_pin_that_says_why(profile: str) -> None:
    lines = requirement_lines(profile)
    assert lines
    assert [line for line in lines if not PIN.match(line)] == []


@pytest.mark.parametrize("profile", PROFILES)
def test_no_package_is_pinned_twice(profile: str) -> None:
    names = [
        canonicalize_name(Requirement(line.split("#", 1)[0]).name) for line in requirement_lines(profile)
    ]
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_every_direct_requirement_is_pinned_within_pyproject(profile: str) -> None:
    pinned = {name: version for name, version, _ in pins(profile)}
    wrong = {
        str(req): pinned.get(canonicalize_name(req.name))
        for req in direct(profile)
        if canonicalize_name(req.name) not in pinned
        or not req.specifier.contains(pinned[canonicalize_name(req.name)], prereleases=True)
    }
    assert wrong == {}


@pytest.mark.parametrize("profile", PROFILES)
def test_nothing_is_pinned_for_pyproject_that_it_no_longer_asks_for(profile: str) -> None:
    asked = {canonicalize_name(r.name) for r in direct(profile)}
    claimed = {name for name, _, via in pins(profile) if FROM_PYPROJECT in via}
    assert claimed - asked == set()
    assert asked - claimed == set()


def test_a_package_has_one_version_in_every_file() -> None:
    versions: dict[str, set[str]] = {}
    for profile in PROFILES:
        for name, version, _ in pins(profile):
            versions.setdefault(name, set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}


def test_the_api_image_gets_no_model_library() -> None:
    assert MODEL_LIBRARIES & {name for name, _, _ in pins("api")} == set()


@pytest.mark.parametrize("profile", PROFILES)
def test_no_cuda_package_and_torch_pinned_without_a_local_label(profile: str) -> None:
    pinned = {name: version for name, version, _ in pins(profile)}
    assert [name for name in pinned if CUDA.match(name)] == []
    torch = [r for r in direct(profile) if r.name == "torch"]
    if torch:
        # "2.13.0", not "2.13.0+cpu": the CPU wheel, PyPI's and a CUDA image's build all satisfy it.
        assert pinned["torch"] == str(next(iter(torch[0].specifier)).version)


def test_the_makefile_and_the_dockerfiles_name_only_compiled_files() -> None:
    users = [REPO / "Makefile", *sorted((REPO / "docker").glob("*.Dockerfile"))]
    named = {
        m for path in users for m in re.findall(r"requirements/(\w+)\.txt", path.read_text(encoding="utf-8"))
    }
    assert named
    assert named - set(PROFILES) == set()
