"""Running hey (the HTTP load generator) and reading its summary, for `make bench`."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HeyRun:
    """What one hey run saw: its length, answers per status code, transport errors and latency percentiles."""

    seconds: float
    codes: dict[int, int]
    errors: int
    latency_ms: dict[int, float]

    @property
    def total(self) -> int:
        """Every request hey made, answered or not."""
        return sum(self.codes.values()) + self.errors

    def rate(self, code: int) -> float:
        """Answers with this status code per second."""
        return self.codes.get(code, 0) / self.seconds


def parse_hey(text: str) -> HeyRun:
    """Read hey's summary text (totals, status code and error distributions, latency percentiles)."""
    summary, _, errors = text.partition("Error distribution:")
    total = re.search(r"Total:\s+([\d.]+) secs", summary)
    if total is None:
        raise RuntimeError(f"hey printed no summary:\n{text}")
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", summary)}
    latency = {int(p): float(s) * 1000 for p, s in re.findall(r"(\d+)% in ([\d.]+) secs", summary)}
    failed = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", errors, re.MULTILINE))
    return HeyRun(seconds=float(total.group(1)), codes=codes, errors=failed, latency_ms=latency)


def hey(
    url: str,
    *,
    seconds: int = 0,
    n: int = 0,
    c: int = 50,
    body: Path | None = None,
    headers: dict[str, str] | None = None,
) -> HeyRun:
    """Load `url` with hey on one core, for `seconds` when given, else for `n` requests."""
    cmd = ["hey", "-cpus", "1", "-c", str(c), *(["-z", f"{seconds}s"] if seconds else ["-n", str(n)])]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if body is not None:
        cmd += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 300)
    return parse_hey(done.stdout)
