"""Processes seen through /proc: a supervisor's services, their process groups, and whether they still run."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from devtools.stack.process import wait_until


class Proc(NamedTuple):
    """A process as /proc shows it; its start time tells it from a later process given the same pid."""

    pid: int
    ppid: int
    pgrp: int
    started: int


def _read(stat: Path) -> Proc | None:
    try:
        after_name = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # it ended while we looked
    if after_name[0] in ("Z", "X"):
        return None  # a zombie runs nothing
    return Proc(int(stat.parent.name), int(after_name[1]), int(after_name[2]), int(after_name[19]))


def processes() -> list[Proc]:
    """Every live process of the machine."""
    found = (_read(stat) for stat in Path("/proc").glob("[0-9]*/stat"))
    return [p for p in found if p is not None]


def services_of(supervisor: int) -> list[Proc]:
    """The supervisor's children (each service's main process) and everything in their process groups."""
    everything = processes()
    groups = {p.pid for p in everything if p.ppid == supervisor}
    return [p for p in everything if p.pgrp in groups or p.pid in groups]


def alive(proc: Proc) -> bool:
    """Whether this very process (not a later one with its pid) still runs."""
    now = _read(Path(f"/proc/{proc.pid}/stat"))
    return now is not None and now.started == proc.started


def wait_all_gone(procs: list[Proc], *, timeout: float) -> None:
    """Wait until none of `procs` runs; fail naming the survivors after `timeout`."""
    try:
        wait_until(
            lambda: not any(alive(p) for p in procs), timeout=timeout, what="every process gone", every=0.1
        )
    except TimeoutError:
        survivors = [p for p in procs if alive(p)]
        raise AssertionError(f"still running after {timeout} s: {survivors}") from None


def environ(pid: int) -> dict[str, str]:
    """A process's environment as it was started."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode(errors="replace").partition("=") for item in raw if item)
    return {name: value for name, _, value in pairs}


def cmdline(pid: int) -> list[str]:
    """A process's command line."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
