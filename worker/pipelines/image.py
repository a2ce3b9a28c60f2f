"""Text-to-image with diffusers: every input of the API, per-step progress, stop between steps."""

from __future__ import annotations

import io
import random
from typing import Any

from shared.inputs import ImageInput, JobInput
from shared.settings import Settings
from worker.device import pick_device, pick_dtype
from worker.pipelines.base import Artifact, JobItem, JobStopped, Output
from worker.pipelines.source import quiet, resolve_model

DEFAULT_FOLDER = "tiny-sd"


class DiffusersImagePipeline:
    """`AutoPipelineForText2Image` loaded once from a hub id or a local folder."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.image_model or str(settings.models_dir / DEFAULT_FOLDER)
        self.device = pick_device(settings.device)
        self.pipe: Any = None

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

    def run(self, items: list[JobItem]) -> list[Output | Exception]:
        return [self._run_one(item) for item in items]

    def _run_one(self, item: JobItem) -> Output:
        import torch

        inp = item.input
        assert isinstance(inp, ImageInput)
        seed = inp.seed if inp.seed is not None else random.randrange(2**32)
        generator = torch.Generator(device="cpu").manual_seed(seed)

        def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if not item.ctx.progress(step + 1, inp.steps):
                raise JobStopped()
            return kwargs

        images = self.pipe(
            prompt=inp.prompt,
            negative_prompt=inp.negative_prompt,
            width=inp.width,
            height=inp.height,
            num_inference_steps=inp.steps,
            guidance_scale=inp.guidance_scale,
            num_images_per_prompt=inp.num_images,
            generator=generator,
            callback_on_step_end=on_step,
            output_type="pil",
        ).images
        return Output(artifacts=[_png(i, img) for i, img in enumerate(images)], summary={"seed": seed})


def _png(index: int, image: Any) -> Artifact:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    meta = {"width": image.width, "height": image.height}
    return Artifact(name=f"{index}.png", data=buf.getvalue(), content_type="image/png", meta=meta)
