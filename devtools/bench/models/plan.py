"""What `make bench-models` runs: batch sizes, job counts and the fixed image and chat workloads."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

IMAGE_PROMPT = "a photo of a red fox in the snow"
CHAT_PROMPT = "Tell me a story about a dragon who was afraid of the dark."
# Sampled replies exercise the worker's per-row sampler; seeds make every run draw the same tokens.
TEMPERATURE = 0.8
TOP_P = 0.95


@dataclass(frozen=True)
class Plan:
    """One benchmark's sizes: the direct sweep, the system load and the workload of every job."""

    batches: tuple[int, ...]
    runs: int  # timed calls per batch size at least (after one warm-up call)
    min_s: float  # and at least this many seconds of timed calls
    max_call_s: float  # a call slower than this ends the sweep: larger batches would not fit the time
    jobs: int  # jobs submitted at once per system run
    side: int  # image width and height
    steps: int
    guidance: float
    max_tokens: int
    passes: int = 1  # sweeps over the batch sizes, the best kept: spreads the calls over time
    rounds: int = 1  # timed rounds per system run, the fastest kept
    batch_wait_ms: int = 20  # LLMB_BATCH_WAIT_MS of the batching worker
    caches: tuple[str, ...] = ("dynamic", "static")

    def image_input(self, seed: int) -> dict[str, Any]:
        """The API input of one image job."""
        return {
            "prompt": IMAGE_PROMPT,
            "width": self.side,
            "height": self.side,
            "steps": self.steps,
            "guidance_scale": self.guidance,
            "seed": seed,
        }

    def chat_input(self, seed: int) -> dict[str, Any]:
        """The API input of one chat job: no stop strings, so only end-of-text ends a reply early."""
        return {
            "messages": [{"role": "user", "content": CHAT_PROMPT}],
            "max_tokens": self.max_tokens,
            "temperature": TEMPERATURE,
            "top_p": TOP_P,
            "seed": seed,
        }


_ALL = (1, 2, 4, 8, 16, 32)
# Tiny shapes mirror sd-turbo's use (one step, no guidance) at a side the 2-core CPU turns around quickly.
PLANS = {
    ("tiny", False): Plan(_ALL, 5, 2.0, 30.0, 128, 256, 1, 0.0, 64, passes=2, rounds=2),
    ("tiny", True): Plan((1, 4, 16), 2, 0.5, 10.0, 16, 128, 1, 0.0, 16),
    ("real", False): Plan(_ALL, 3, 2.0, 60.0, 64, 512, 1, 0.0, 64),
    # A smoke test: on a CPU one 512-pixel image takes tens of seconds, which ends the image sweep at 1.
    ("real", True): Plan((1, 2), 1, 0.0, 20.0, 2, 512, 1, 0.0, 8),
}


def rate(value: float | None) -> str:
    """A throughput with three significant digits at least, thousands separated."""
    if value is None:
        return ""
    return f"{value:,.1f}" if value >= 10 else f"{value:.3g}"


def plan_for(shapes: str, *, quick: bool, overrides: dict[str, str | int | None]) -> Plan:
    """The plan for these shapes, with the command line's overrides (None: keep) applied."""
    plan = PLANS[(shapes, quick)]
    for name, given in overrides.items():
        if given is None:
            continue
        value: Any = given
        if name in ("batches", "caches"):
            items = [item.strip() for item in str(given).split(",") if item.strip()]
            value = tuple(int(item) for item in items) if name == "batches" else tuple(items)
        plan = replace(plan, **{name: value})
    return plan
