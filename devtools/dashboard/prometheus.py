"""A real Prometheus server (the `prometheus` binary: Debian's package, `make system-deps`) scraping the
stack's /metrics, and a client of its HTTP API: the dashboard's picture and the tests query it."""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from devtools.stack.process import Service, free_port, spawn, wait_until

READY_S = 60


class QueryError(RuntimeError):
    """Prometheus refused a query (its error type and message)."""


@dataclass
class Prometheus:
    """A running Prometheus and a client of its HTTP API (its docs: querying/api.md)."""

    service: Service
    http: httpx.Client

    def query(self, expr: str) -> dict[str, Any]:
        """GET /api/v1/query for now: Prometheus' whole answer (status, data or error)."""
        answer: dict[str, Any] = self.http.get("/api/v1/query", params={"query": expr}).json()
        return answer

    def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """GET /api/v1/query_range: each series' `metric` (labels) and `values` ([unix s, "value"], ...).

        Raises QueryError when Prometheus refuses the expression."""
        params: dict[str, str | float] = {"query": expr, "start": start, "end": end, "step": step}
        answer: dict[str, Any] = self.http.get("/api/v1/query_range", params=params).json()
        if answer["status"] != "success":
            raise QueryError(f"{answer.get('errorType')}: {answer.get('error')} ({expr})")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def value(self, expr: str) -> float:
        """The single number a scalar-valued query answers now (NaN while it answers nothing)."""
        result = self.query(expr)["data"]["result"]
        return float(result[0]["value"][1]) if result else math.nan

    def wait_for(self, expr: str, minimum: float, *, timeout: float = 60) -> None:
        """Wait until `expr` reaches `minimum` (Prometheus scraped what was just done).

        Raises TimeoutError past `timeout` seconds."""
        what = f"Prometheus seeing {expr} >= {minimum}"
        wait_until(lambda: self.value(expr) >= minimum, timeout=timeout, what=what, every=0.2)

    def stop(self) -> None:
        """Close the client and stop the server."""
        self.http.close()
        self.service.stop()


def config(targets: dict[str, str], *, scrape_s: float, rule_files: list[Path]) -> dict[str, Any]:
    """prometheus.yml: each target (job -> /metrics URL) scraped every `scrape_s` s, the rules as often."""
    every = f"{round(scrape_s * 1000)}ms"
    return {
        "global": {"scrape_interval": every, "evaluation_interval": every},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {
                "job_name": job,
                "metrics_path": urlsplit(url).path,
                "static_configs": [{"targets": [urlsplit(url).netloc]}],
            }
            for job, url in targets.items()
        ],
    }


def start(
    root: Path, targets: dict[str, str], *, scrape_s: float = 1.0, rule_files: list[Path] | None = None
) -> Prometheus:
    """Prometheus with its config and data under `root`, scraping `targets` (job -> /metrics URL).

    Raises RuntimeError when `prometheus` is not installed or exits before it is ready."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is not installed (apt-get install prometheus; make system-deps)")
    settings = config(targets, scrape_s=scrape_s, rule_files=rule_files or [])
    (root / "prometheus.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    port = free_port()
    cmd = [
        binary,
        f"--config.file={root / 'prometheus.yml'}",
        f"--storage.tsdb.path={root / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    service = spawn("prometheus", cmd, log_dir=root, port=port)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        wait_until(
            lambda: http.get("/-/ready").status_code == 200,
            timeout=READY_S,
            what="prometheus",
            proc=service.proc,
        )
    except BaseException:
        http.close()
        service.stop()
        raise
    return Prometheus(service, http)
