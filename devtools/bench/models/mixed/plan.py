"""The mixed chat load, drawn from a seed: every job's input and, for the steady load, when it is posted."""

from __future__ import annotations

import random
from typing import Any

from devtools.bench.models.plan import CHAT_PROMPT, TEMPERATURE, TOP_P

MIN_TOKENS = 8
MAX_TOKENS = 256


def draw_max_tokens(seed: int, jobs: int, *, low: int = MIN_TOKENS, high: int = MAX_TOKENS) -> list[int]:
    """`jobs` values of max_tokens drawn uniformly from low..high (both included), the same for a seed."""
    rng = random.Random(f"{seed}:max_tokens")
    return [rng.randint(low, high) for _ in range(jobs)]


def job_inputs(seed: int, jobs: int) -> list[dict[str, Any]]:
    """The chat jobs' inputs: one prompt, sampled, max_tokens from `seed`, job i sampled with seed i."""
    return [
        {
            "messages": [{"role": "user", "content": CHAT_PROMPT}],
            "max_tokens": tokens,
            "temperature": TEMPERATURE,
            "top_p": TOP_P,
            "seed": index,
        }
        for index, tokens in enumerate(draw_max_tokens(seed, jobs))
    ]


def steady_offsets(seed: int, jobs: int, rate: float) -> list[float]:
    """Seconds after the first post at which each job is posted: exponential gaps of mean 1/`rate` s.

    The first job goes at 0; the same seed gives the same schedule (a Poisson process at `rate` jobs/s).
    """
    if rate <= 0:
        raise ValueError(f"the rate must be positive, not {rate}")
    rng = random.Random(f"{seed}:gaps")
    offsets, at = [], 0.0
    for _ in range(jobs):
        offsets.append(at)
        at += rng.expovariate(rate)
    return offsets


def at_once(jobs: int) -> list[float]:
    """Every job posted at once: all offsets 0."""
    return [0.0] * jobs
