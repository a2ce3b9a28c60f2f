"""The jobs a soak submits: images of a few sizes (so batches form), embeddings, and a few with a purpose."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from devtools.chaos.plan import Plan

SIZES = ((64, 64), (128, 64), (128, 128))
STEPS = (2, 4, 8)
PACES_MS = (50, 100, 200)
WORDS = ("a cat", "a kitten", "tax law", "the sea", "red fox", "a storm", "old maps", "green tea")

# What each tag's job is for, and the outcomes it may end with besides those every fault allows.
STEADY, BURST, EMBED, BUSY = "image", "burst", "embed", "busy"
BATCH = "batch"  # a line of the soak's /v1/batches batch (devtools/chaos/batch.py)
BUSY_STEPS = 12  # a busy job's steps: no other job has as many
CANCEL_RUNNING, CANCEL_QUEUED = "cancel-running", "cancel-queued"
POISON, OVERTIME, FAIL, REFUSE = "poison", "overtime", "fail", "refuse"
EXPECTED: dict[str, str] = {
    STEADY: "succeeded",
    BURST: "succeeded",
    BUSY: "succeeded",
    EMBED: "succeeded",
    BATCH: "succeeded",
    CANCEL_RUNNING: "canceled",
    CANCEL_QUEUED: "canceled",
    POISON: "failed/worker_lost",
    OVERTIME: "failed/timeout",
    FAIL: "failed/internal",
    REFUSE: "failed/invalid_input",
}


@dataclass(frozen=True)
class JobSpec:
    """One job to submit: why (its tag) and the request body."""

    tag: str
    body: dict[str, Any]


def image(prompt: str, width: int, height: int, steps: int, *, num_images: int = 1) -> dict[str, Any]:
    """An image job's body."""
    size = {"width": width, "height": height, "steps": steps, "num_images": num_images}
    return {"type": "image", "input": {"prompt": prompt, **size}}


class Mix:
    """The n-th job of the steady load or of a burst, drawn from a seeded generator."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)

    def steady(self, n: int) -> JobSpec:
        """The n-th steady job (from 0): a purposeful one at fixed places, else a random draw."""
        if n == 1:  # runs past LLMB_JOB_TIME_LIMIT_S; a size of its own, so it runs alone
            return JobSpec(OVERTIME, image("pace:1000", 64, 320, 40))
        if n == 3:  # kills its pool process on every attempt; alone in its batch for the same reason
            return JobSpec(POISON, image("kill", 320, 64, 1))
        if n % self.plan.cancel_every == self.plan.cancel_every // 2:
            return JobSpec(CANCEL_RUNNING, image("pace:300", 192, 192, 10))
        return self._draw(n)

    def _draw(self, n: int) -> JobSpec:
        """An ordinary job drawn at random: image (paced or instant), embed, or one failing on purpose."""
        rng, r = self.rng, self.rng.random()
        width, height = rng.choice(SIZES)
        steps = rng.choice(STEPS)
        if r < 0.02:
            return JobSpec(FAIL, image("fail", width, height, steps))
        if r < 0.04:
            return JobSpec(REFUSE, image("refuse", width, height, steps))
        if r < 0.28:
            texts = [f"{rng.choice(WORDS)} {n}" for _ in range(rng.randint(1, 4))]
            return JobSpec(EMBED, {"type": "embed", "input": {"input": texts}})
        if r < 0.43:
            return JobSpec(STEADY, image("ok", width, height, steps))
        count = 2 if rng.random() < 0.2 else 1
        return JobSpec(STEADY, image(f"pace:{rng.choice(PACES_MS)}", width, height, steps, num_images=count))

    def busy(self) -> JobSpec:
        """A job of six seconds (12 steps of 500 ms): running through a Redis outage or a CLIENT KILL."""
        return JobSpec(BUSY, image("pace:500", 128, 128, BUSY_STEPS))

    def burst(self, n: int) -> JobSpec:
        """The n-th job of a burst: two seconds of paced steps; some are canceled while they wait."""
        width, height = SIZES[n % len(SIZES)]
        tag = CANCEL_QUEUED if n % self.plan.queued_cancel_every == 0 else BURST
        return JobSpec(tag, image("pace:250", width, height, 8))
