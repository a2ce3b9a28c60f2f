"""A Redis master, its replicas and three Sentinels as child processes: failover on one machine.

Every instance is the same redis-server binary `make run` uses (`redis-server --sentinel` for the
sentinels), each with its own folder, port and append-only file.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from redis import Redis

from devtools.stack.process import Service, free_port, port_open, spawn, wait_until
from devtools.stack.servers import redis_binary, start_redis

MASTER_NAME = "llmb"
# Sentinel calls the master down after this long without an answer, then elects and promotes.
DOWN_AFTER_MS = 1000
# Replicas copy straight over the socket, at once (redis 7's default waits 5 s for more replicas).
_REPLICA_OPTIONS = ("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")


def ask(port: int, *command: str) -> object:
    """One command to the instance on `port`, on a short-lived connection."""
    with Redis(port=port, socket_timeout=2, socket_connect_timeout=1) as client:
        return client.execute_command(*command)


@dataclass
class SentinelSet:
    """A master, its replicas and the sentinels watching them; the services go on `services` too."""

    root: Path
    services: list[Service] = field(default_factory=list)
    instances: dict[int, Service] = field(default_factory=dict)
    sentinels: list[Service] = field(default_factory=list)
    # A master with fewer replicas than this (each heard from within 10 s) refuses writes (NOREPLICAS):
    # a master cut off in a split brain stops taking writes that would be lost.
    min_replicas: int = 0

    def start(self, *, replicas: int = 2, sentinels: int = 3) -> SentinelSet:
        """Start the master, its replicas, then the sentinels; return once every replica copies it."""
        master = self._instance(free_port(), ()).port
        for _ in range(replicas):
            self._instance(free_port(), ("--replicaof", "127.0.0.1", str(master)))
        for _ in range(sentinels):
            self._sentinel(master, quorum=sentinels // 2 + 1)
        self.wait_replicas(replicas, timeout=30)
        wait_until(lambda: self.master_port() == master, timeout=30, what="the sentinels to agree")
        return self

    @property
    def env(self) -> dict[str, str]:
        """The settings that point every service at this set's master, through its sentinels."""
        listed = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return {"LLMB_REDIS_SENTINELS": listed, "LLMB_REDIS_MASTER": MASTER_NAME}

    def master_port(self) -> int:
        """The master's port as the first sentinel that answers names it."""
        for svc in self.sentinels:
            try:
                reply = ask(svc.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
                return int(cast(list[bytes], reply)[1])
            except Exception:  # noqa: BLE001 - the next sentinel may answer
                continue
        raise RuntimeError("no sentinel answers")

    def kill_master(self) -> int:
        """SIGKILL the master (no shutdown, no last write to disk); its port."""
        port = self.master_port()
        svc = self.instances.pop(port)
        svc.stop(sig=signal.SIGKILL, timeout=5)
        self.services.remove(svc)
        return port

    def wait_promoted(self, old: int, *, timeout: float = 60) -> int:
        """Wait until the sentinels name a new master that answers as one; its port."""

        def promoted() -> bool:
            port = self.master_port()
            return port != old and _role(port) == "master"

        wait_until(promoted, timeout=timeout, what="a replica's promotion")
        return self.master_port()

    def rejoin(self, port: int) -> Service:
        """Start the old master again on its port, as a replica of the current master."""
        return self._instance(port, ("--replicaof", "127.0.0.1", str(self.master_port())))

    def wait_replicas(self, count: int, *, timeout: float = 60) -> None:
        """Wait until the master has `count` replicas online and caught up."""

        def synced() -> bool:
            with Redis(port=self.master_port(), socket_timeout=2, socket_connect_timeout=1) as client:
                info = client.info("replication")
            return (
                sum(1 for k, v in info.items() if k.startswith("slave") and v.get("state") == "online")
                >= count
            )

        wait_until(synced, timeout=timeout, what=f"{count} replicas online")

    def _instance(self, port: int, extra: tuple[str, ...]) -> Service:
        folder = self.root / f"redis-{port}"
        guard = ("--min-replicas-to-write", str(self.min_replicas), "--min-replicas-max-lag", "10")
        svc = start_redis(folder, port=port, appendonly=True, extra=(*_REPLICA_OPTIONS, *guard, *extra))
        # Redis 7.0 ignores SIGTERM while it writes a replica's first append-only file: do not wait long.
        svc.grace_s = 5.0
        self.instances[port] = svc
        self.services.append(svc)
        return svc

    def _sentinel(self, master: int, *, quorum: int) -> Service:
        port = free_port()
        folder = self.root / f"sentinel-{port}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "sentinel.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder.resolve()}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} {quorum}\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 2\n"
        )
        svc = spawn(f"sentinel-{port}", [redis_binary(), str(conf), "--sentinel"], log_dir=folder, port=port)
        wait_until(port_open(port), timeout=10, what="redis sentinel", proc=svc.proc)
        self.sentinels.append(svc)
        self.services.append(svc)
        return svc


def _role(port: int) -> str:
    try:
        reply = ask(port, "ROLE")
    except Exception:  # noqa: BLE001 - a dead or starting instance has no role yet
        return ""
    first = reply[0] if isinstance(reply, list) and reply else b""
    return first.decode() if isinstance(first, bytes) else str(first)


def main(argv: list[str] | None = None) -> int:
    """`python -m devtools.stack.sentinel`: a master, two replicas and three sentinels until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m devtools.stack.sentinel", description=main.__doc__)
    parser.add_argument(
        "--root", type=Path, default=Path("var/sentinel"), help="data and logs (var/sentinel)"
    )
    args = parser.parse_args(argv)
    services: list[Service] = []
    redis_set = SentinelSet(args.root, services=services)
    try:
        redis_set.start()
        master = redis_set.master_port()
        print(f"Redis master on 127.0.0.1:{master}, replicas and sentinels ready (data in {args.root}).")
        print("In another terminal, run the service against it:")
        print("  " + " ".join(f"{k}={v}" for k, v in redis_set.env.items()) + " make run")
        print(f"Fail the master over: kill -9 {redis_set.instances[master].pid}")
        print("Ctrl-C stops them all.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        while services:
            services.pop().stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
