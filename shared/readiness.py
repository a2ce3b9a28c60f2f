"""The ready file names the process that wrote it (pid and start time), so a probe can tell this run's
readiness from a file left by a previous run of the container (the /run/llmb volume outlives it).
The worker (worker/app.py, once its pipelines are warm) and the webhook sender (webhooks/main.py, once
Redis answered) write it.

Their probes (k8s/base/worker-*.yaml and webhooks.yaml, the healthchecks in docker/compose.yaml) check
it in sh, as `probe_command` says: the pid's /proc entry must exist with the start time the file holds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The probe's command, for `sh -c`; READY_FILE stands for the ready file's path.
PROBE = (
    'read -r pid start < READY_FILE && [ -r "/proc/$pid/stat" ] && '
    '[ "$(sed "s/.*) //" "/proc/$pid/stat" | cut -d" " -f20)" = "$start" ]'
)


def probe_command(path: str) -> str:
    """The `sh -c` command that exits 0 while the ready file at `path` names a running process."""
    return PROBE.replace("READY_FILE", path)


def start_time(pid: int) -> str:
    """When process `pid` started, in clock ticks after boot (field 22 of /proc/PID/stat); OSError if gone."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[19]  # after the name, which may hold spaces and parentheses


def mark_ready(path: Path, pid: int) -> None:
    """Write the ready file naming process `pid`, in one step (a probe never reads half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(f"{pid} {start_time(pid)}\n")
    partial.replace(path)


def is_ready(path: Path) -> bool:
    """Whether the ready file names a process that runs now (the one that wrote it, not a predecessor)."""
    try:
        pid, start = path.read_text().split()
        return start_time(int(pid)) == start
    except (OSError, ValueError):
        return False


if __name__ == "__main__":  # `python -m shared.readiness PATH`: exit 0 when ready
    sys.exit(0 if is_ready(Path(sys.argv[1])) else 1)
