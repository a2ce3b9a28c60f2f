"""A real Prometheus server (the `prometheus` binary, where installed) scraping the test stack every
second and evaluating the alert rules, to run the dashboard's and the rules' PromQL on the real thing."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from devtools.stack.process import Service, free_port, spawn, wait_until
from tests.observability.expressions import ALERTS

BINARY = shutil.which("prometheus")
READY_S = 60


@dataclass
class Prometheus:
    """A running Prometheus and a client of its HTTP API."""

    service: Service
    http: httpx.Client

    def query(self, expr: str) -> dict[str, Any]:
        """GET /api/v1/query for now: Prometheus' whole answer (status, data or error)."""
        answer: dict[str, Any] = self.http.get("/api/v1/query", params={"query": expr}).json()
        return answer

    def value(self, expr: str) -> float:
        """The single number a scalar-valued query answers now (NaN while it answers nothing)."""
        result = self.query(expr)["data"]["result"]
        return float(result[0]["value"][1]) if result else float("nan")

    def wait_for(self, expr: str, minimum: float, *, timeout: float = 60) -> None:
        """Wait until `expr` reaches `minimum`: Prometheus has scraped what was just done."""
        deadline = time.monotonic() + timeout
        while not self.value(expr) >= minimum:
            assert time.monotonic() < deadline, f"Prometheus never saw {expr} >= {minimum}"
            time.sleep(0.2)

    def stop(self) -> None:
        """Close the client and stop the server."""
        self.http.close()
        self.service.stop()


def start(root: Path, targets: dict[str, str]) -> Prometheus:
    """Prometheus under `root` scraping each target (job -> /metrics URL) every second, with the rules."""
    if BINARY is None:
        raise RuntimeError("prometheus is not installed")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {
                "job_name": job,
                "metrics_path": urlsplit(url).path,
                "static_configs": [{"targets": [urlsplit(url).netloc]}],
            }
            for job, url in targets.items()
        ],
    }
    (root / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    cmd = [
        BINARY,
        f"--config.file={root / 'prometheus.yml'}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    service = spawn("prometheus", cmd, log_dir=root, port=port)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def ready() -> bool:
        try:
            return http.get("/-/ready").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(ready, timeout=READY_S, what="prometheus", proc=service.proc)
    except BaseException:
        http.close()
        service.stop()
        raise
    return Prometheus(service, http)
