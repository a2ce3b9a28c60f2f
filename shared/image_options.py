"""The image pipeline's settings (`LLMB_IMAGE_*`): its model and class, and how its UNet runs."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings

# torch.compile's modes; "off" runs the UNet eagerly.
CompileMode = Literal["off", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]


class ImageOptions(BaseSettings):
    """The image settings, kept flat (`LLMB_IMAGE_MODEL`, ...): `Settings` inherits them."""

    image_model: str | None = None
    image_pipeline: str = "worker.pipelines.image:DiffusersImagePipeline"
    image_channels_last: bool = False  # the UNet and the VAE in channels_last memory format
    image_compile: CompileMode = "off"  # torch.compile the UNet in this mode, paid in the warm-up
