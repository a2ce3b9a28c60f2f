"""Scraped Prometheus samples kept as time series, the way a Prometheus server would keep them.

The text exposition is parsed by prometheus-client's own parser; every sample is stored under its
sample name (`llmb_batch_size_bucket`, `llmb_jobs_finished_total`, ...) with the target's `instance`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]
Point = tuple[float, float]


@dataclass
class Store:
    """Samples by name, then by label set, in scrape order; `types` has each family's declared type."""

    samples: dict[str, dict[Labels, list[Point]]] = field(default_factory=lambda: defaultdict(dict))
    types: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)

    def add_exposition(self, text: str, *, instance: str, at: float) -> None:
        """Store every sample of one scrape of `instance` taken at `at`."""
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.types[sample.name] = family.type
                labels = frozenset({**sample.labels, "instance": instance}.items())
                self.samples[sample.name].setdefault(labels, []).append((at, float(sample.value)))

    def latest(self, name: str, at: float, *, lookback: float) -> dict[Labels, float]:
        """Each series' last value at or before `at`, if it is at most `lookback` seconds old."""
        found = {}
        for labels, points in self.samples.get(name, {}).items():
            last = [p for p in points if at - lookback <= p[0] <= at]
            if last:
                found[labels] = last[-1][1]
        return found

    def window(self, name: str, start: float, end: float) -> dict[Labels, list[Point]]:
        """Each series' points in (start, end]."""
        return {
            labels: inside
            for labels, points in self.samples.get(name, {}).items()
            if (inside := [p for p in points if start < p[0] <= end])
        }


def scrape(client: httpx.Client, store: Store, targets: dict[str, str]) -> float:
    """Scrape each target (instance -> URL) into `store` once, skipping one that is down; when it ran."""
    at = time.time()
    for instance, url in targets.items():
        try:
            response = client.get(url)
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            store.add_exposition(response.text, instance=instance, at=at)
    store.times.append(at)
    return at
