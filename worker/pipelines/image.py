"""Text-to-image with diffusers: every API input, batched per size, per-step progress, stop between steps."""

from __future__ import annotations

import io
import os
import random
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared.inputs import ImageInput
from shared.settings import Settings
from worker.device import pick_device, pick_dtype
from worker.pipelines.base import Artifact, Output, Steps
from worker.pipelines.source import quiet, resolve_model
from worker.pipelines.unet import OneThread, to_channels_last, warm_up

DEFAULT_FOLDER = "tiny-sd"


@dataclass(frozen=True)
class ImageWork:
    """One image job as the pipeline runs it: its input and the seed it uses (chosen when absent)."""

    input: ImageInput
    seed: int


class DiffusersImagePipeline:
    """`AutoPipelineForText2Image` loaded once from a hub id or a local folder."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.image_model or str(settings.models_dir / DEFAULT_FOLDER)
        self.device = pick_device(settings.device)
        self.channels_last, self.compile = settings.image_channels_last, settings.image_compile
        self.pipe: Any = None
        self.on_unet_thread = OneThread(on=self.compile != "off")  # a compiled UNet runs on one thread
        # Calls take turns: a diffusers pipeline's scheduler holds the running call's timesteps and step
        # index, so two batches at once (LLMB_DEVICE_BATCHES > 1) would corrupt each other (IndexError
        # in the Euler scheduler). Their PNG encoding and storing still overlap the next call.
        self.one_call = threading.Lock()
        self.encoder = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="png")

    def load(self) -> None:
        from diffusers import AutoPipelineForText2Image

        with quiet():
            pipe = AutoPipelineForText2Image.from_pretrained(
                resolve_model(self.model), dtype=pick_dtype(self.device)
            )
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(self.device)
        if self.channels_last:
            to_channels_last(self.pipe)
        self.on_unet_thread(warm_up, self.pipe, self.compile, self.warm_up_call)

    def warm_up_call(self, pipe: Any) -> None:
        """The call `load` makes once, so the first job finds all loaded (and a compiled UNet compiled)."""
        pipe(prompt="warm-up", width=64, height=64, num_inference_steps=1, output_type="pil")

    def prepare(self, job_input: ImageInput) -> ImageWork:
        seed = job_input.seed if job_input.seed is not None else random.randrange(2**32)
        return ImageWork(job_input, seed)

    def run(self, batch: Sequence[ImageWork], steps: Steps) -> list[Output | Exception]:
        first = batch[0].input  # a batch shares size, steps and guidance (the input's batch key)

        def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            for row in range(len(batch)):
                steps.progress(row, step + 1, first.steps)
            steps.checkpoint()
            return kwargs

        with self.one_call:  # the pipeline's scheduler keeps one call's state (its step index)
            images = self._call(batch, on_step)
        return self._outputs(images, batch)

    def _call(self, batch: Sequence[ImageWork], on_step: Any) -> list[Any]:
        """One diffusers call for the batch, every image of every job: its PIL images, in order."""
        first = batch[0].input
        per_image = [(w, i) for w in batch for i in range(w.input.num_images)]
        images: list[Any] = self.on_unet_thread(
            self.pipe,
            prompt=[w.input.prompt for w, _ in per_image],
            negative_prompt=[w.input.negative_prompt or "" for w, _ in per_image],
            width=first.width,
            height=first.height,
            num_inference_steps=first.steps,
            guidance_scale=first.guidance_scale,
            generator=self.generators(batch),
            callback_on_step_end=on_step,
            output_type="pil",
        ).images
        return images

    @staticmethod
    def generators(batch: Sequence[ImageWork]) -> list[Any]:
        """One generator per image, seeded seed, seed + 1, ...: its noise depends on its own job only."""
        import torch

        return [
            torch.Generator(device="cpu").manual_seed((w.seed + i) % 2**32)
            for w in batch
            for i in range(w.input.num_images)
        ]

    def _outputs(self, images: list[Any], batch: Sequence[ImageWork]) -> list[Output | Exception]:
        # PNG encoding is zlib work that releases the GIL: a batch's images are encoded side by side,
        # off the device's time (the worker gives the device to the next batch while they encode).
        names = [i for w in batch for i in range(w.input.num_images)]
        artifacts = [_png(self.encoder, index, image) for index, image in zip(names, images, strict=True)]
        outputs: list[Output | Exception] = []
        start = 0
        for w in batch:
            n = w.input.num_images
            outputs.append(Output(artifacts=artifacts[start : start + n], summary={"seed": w.seed}))
            start += n
        return outputs


def _png(encoder: ThreadPoolExecutor, index: int, image: Any) -> Artifact:
    """The image as a PNG artifact whose bytes are encoded in `encoder`, awaited when it is stored."""

    def encode() -> bytes:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()

    meta = {"width": image.width, "height": image.height}
    pending = encoder.submit(encode)
    return Artifact(name=f"{index}.png", data=b"", content_type="image/png", meta=meta, later=pending.result)
