"""Developer tooling: local processes for `make run` and the tests, benchmarks, the scaling simulation."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
