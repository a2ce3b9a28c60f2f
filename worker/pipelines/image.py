"""Text-to-image with diffusers: every API input, batched per size, per-step progress, stop between steps."""

from __future__ import annotations

import io
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.inputs import ImageInput, JobInput
from shared.settings import Settings
from worker.context import Batch
from worker.device import pick_device, pick_dtype
from worker.pipelines.base import Artifact, JobStopped, Output
from worker.pipelines.source import quiet, resolve_model

DEFAULT_FOLDER = "tiny-sd"


class DiffusersImagePipeline:
    """`AutoPipelineForText2Image` loaded once from a hub id or a local folder."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.image_model or str(settings.models_dir / DEFAULT_FOLDER)
        self.device = pick_device(settings.device)
        self.pipe: Any = None
        self.encoder = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="png")

    def load(self) -> None:
        from diffusers import AutoPipelineForText2Image

        with quiet():
            pipe = AutoPipelineForText2Image.from_pretrained(
                resolve_model(self.model), dtype=pick_dtype(self.device)
            )
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(self.device)
        self.pipe(prompt="warm-up", width=64, height=64, num_inference_steps=1, output_type="pil")

    def batch_key(self, job_input: JobInput) -> str:
        assert isinstance(job_input, ImageInput)
        return f"{job_input.width}x{job_input.height}:{job_input.steps}:{job_input.guidance_scale}"

    def run(self, batch: Batch) -> list[Output | Exception]:
        inputs = [_image_input(item.input) for item in batch.items]
        first = inputs[0]
        seeds = [i.seed if i.seed is not None else random.randrange(2**32) for i in inputs]
        counts = [i.num_images for i in inputs]

        def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            for item in batch.items:
                item.ctx.progress(step + 1, first.steps)
            batch.sync()
            if not batch.any_wanted:
                raise JobStopped()
            return kwargs

        images = self.pipe(
            prompt=[i.prompt for i in inputs for _ in range(i.num_images)],
            negative_prompt=[i.negative_prompt or "" for i in inputs for _ in range(i.num_images)],
            width=first.width,
            height=first.height,
            num_inference_steps=first.steps,
            guidance_scale=first.guidance_scale,
            generator=self._generators(seeds, counts),
            callback_on_step_end=on_step,
            output_type="pil",
        ).images
        return self._outputs(images, seeds, counts)

    def _generators(self, seeds: list[int], counts: list[int]) -> list[Any]:
        # One generator per image, seeded seed, seed + 1, ...: an image depends only on its own
        # job's seed, never on what else shares the batch.
        import torch

        return [
            torch.Generator(device="cpu").manual_seed((seed + i) % 2**32)
            for seed, n in zip(seeds, counts, strict=True)
            for i in range(n)
        ]

    def _outputs(self, images: list[Any], seeds: list[int], counts: list[int]) -> list[Output | Exception]:
        # PNG encoding is zlib work that releases the GIL: encode a batch's images side by side.
        names = [i for n in counts for i in range(n)]
        artifacts = list(self.encoder.map(_png, names, images))
        outputs: list[Output | Exception] = []
        start = 0
        for seed, n in zip(seeds, counts, strict=True):
            outputs.append(Output(artifacts=artifacts[start : start + n], summary={"seed": seed}))
            start += n
        return outputs


def _image_input(job_input: JobInput) -> ImageInput:
    assert isinstance(job_input, ImageInput)
    return job_input


def _png(index: int, image: Any) -> Artifact:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    meta = {"width": image.width, "height": image.height}
    return Artifact(name=f"{index}.png", data=buf.getvalue(), content_type="image/png", meta=meta)
