"""The workers' image pipeline in a soak: the scripted test pipeline, with jobs that take time."""

from __future__ import annotations

import time
from collections.abc import Sequence

from devtools.pipelines import ScriptedImagePipeline
from shared.inputs import ImageInput
from worker.pipelines.base import Output, Steps

SLICE_S = 0.02  # how often a paced step checks in (cancels, hand-backs, deadlines)
SCRIPTED = frozenset({"kill", "kill-once", "fail", "hold"})  # prompts the scripted pipeline acts on


def pace_ms(prompt: str) -> int:
    """The milliseconds per step a "pace:MS" prompt asks for (0 for any other prompt)."""
    command, _, arg = prompt.partition(":")
    return int(arg) if command == "pace" and arg.isdigit() else 0


class PacedImagePipeline(ScriptedImagePipeline):
    """`ScriptedImagePipeline`, plus "pace:MS": each step takes MS ms (a batch goes at its slowest pace)."""

    # No model: every image is the scripted pipeline's 1x1 PNG. Pacing gives the soak jobs that are
    # running when a fault strikes, and a backlog that lasts.

    def run(self, batch: Sequence[ImageInput], steps: Steps) -> list[Output | Exception]:
        """Paced steps when any row asks for a pace, else the scripted pipeline's own run."""
        pace_s = max(pace_ms(i.prompt) for i in batch) / 1000
        if not pace_s or any(i.prompt.partition(":")[0] in SCRIPTED for i in batch):
            return super().run(batch, steps)
        total = max(i.steps for i in batch)
        for step in range(1, total + 1):
            until = time.monotonic() + pace_s
            while time.monotonic() < until:
                time.sleep(min(SLICE_S, max(0.0, until - time.monotonic())))
                steps.checkpoint()
            for row, job_input in enumerate(batch):
                steps.progress(row, min(step, job_input.steps), job_input.steps)
        steps.checkpoint()
        return [self._output(i) for i in batch]
