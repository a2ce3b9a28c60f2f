"""A process's peak resident memory over a span, from /proc/PID/status."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

SAMPLE_S = 0.005


def status_kib(pid: int, name: str) -> int:
    """One `VmXXX:` line of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {name}")


def gunicorn_worker(master_pid: int) -> int:
    """The one worker process under a gunicorn master (the API runs with LLMB_API_WORKERS=1 here)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                children.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker under {master_pid}, found {children}")
    return children[0]


class PeakRss:
    """How far a process's RSS rose above its level at the start of a `with` block, in MiB.

    The peak is the kernel's VmHWM, reset at the start (`5` into /proc/PID/clear_refs), and where the
    kernel refuses the reset, the highest VmRSS sampled every SAMPLE_S meanwhile.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.base_kib = 0
        self.hwm_reset = False
        self.sampled_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self.base_kib = status_kib(self.pid, "VmRSS")
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sampled_kib = max(self.sampled_kib, status_kib(self.pid, "VmRSS"))

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sampled_kib = max(self.sampled_kib, status_kib(self.pid, "VmRSS"))
        if self.hwm_reset:
            self.sampled_kib = max(self.sampled_kib, status_kib(self.pid, "VmHWM"))

    @property
    def growth_mib(self) -> float:
        """The peak less the start, in MiB (0 when it never rose)."""
        return max(0, self.sampled_kib - self.base_kib) / 1024

    @property
    def how(self) -> str:
        """How the peak was read, for the report."""
        return "VmHWM reset at the start" if self.hwm_reset else f"VmRSS sampled every {SAMPLE_S * 1000:g} ms"
