"""`ScriptedImagePipeline`: an image pipeline with no model whose prompt says what to do, so one worker can
show many behaviours (benchmarks, the chaos soak and the tests load it through LLMB_IMAGE_PIPELINE):
  "ok"              one 1x1 PNG per requested image, a progress event per step
  "hold:PATH"       reports step 1, then holds until the file PATH exists (or the job must stop)
  "work:S"          takes S seconds (a job of known length)
  "kill"            SIGKILLs its own process on every attempt (prefork: the pool process; threads: the worker)
  "kill-once:PATH"  SIGKILLs its own process unless PATH exists (it creates PATH first)
  "fail"            raises RuntimeError
  "refuse"          refused when prepared, as input a model cannot take
"""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from shared.errors import InputError
from shared.inputs import ImageInput
from shared.settings import Settings
from worker.pipelines.base import Artifact, Output, Steps

POLL_S = 0.01


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of the given size."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


def hold_until(released: Path, steps: Steps, rows: list[int]) -> None:
    """Wait for the file `released`, checking in (so a cancel, deadline or hand-back stops the rows)."""
    while not released.exists():
        time.sleep(POLL_S)
        steps.checkpoint()
        if not any(steps.wanted(row) for row in rows):
            return


class ScriptedImagePipeline:
    """An image pipeline whose prompt says what to do; no model involved."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def load(self) -> None:
        pass

    def prepare(self, job_input: ImageInput) -> ImageInput:
        if job_input.prompt == "refuse":
            raise InputError("the scripted model refuses this prompt")
        return job_input

    def run(self, batch: Sequence[ImageInput], steps: Steps) -> list[Output | Exception]:
        for job_input in batch:
            command, _, arg = job_input.prompt.partition(":")
            if command == "kill" or (command == "kill-once" and not Path(arg).exists()):
                if command == "kill-once":
                    Path(arg).touch()
                os.kill(os.getpid(), signal.SIGKILL)
            if command == "fail":
                raise RuntimeError("the scripted pipeline failed on purpose")
        total = max(i.steps for i in batch)
        work_s = sum(float(i.prompt.partition(":")[2]) for i in batch if i.prompt.startswith("work:"))
        for step in range(1, total + 1):
            time.sleep(work_s / total)
            for row in range(len(batch)):
                steps.progress(row, step, total)
            steps.checkpoint()
            if step == 1:  # every row has reported its first step; now the held ones wait to be told
                for row, job_input in enumerate(batch):
                    command, _, arg = job_input.prompt.partition(":")
                    if command == "hold":
                        hold_until(Path(arg), steps, [row])
        return [self._output(i) for i in batch]

    @staticmethod
    def _output(job_input: ImageInput) -> Output:
        meta = {"width": 1, "height": 1}
        artifacts = [Artifact(f"{i}.png", tiny_png(), "image/png", meta) for i in range(job_input.num_images)]
        return Output(artifacts=artifacts, summary={"seed": job_input.seed or 0})
