"""The pipelines `make bench-models` runs: the tiny local models, or real-sized ones with random weights
(and a tokenizer as wide as the real one)."""

from __future__ import annotations

import itertools
import shutil
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools import REPO
from worker.device import pick_dtype
from worker.tinymodels.__main__ import FOLDERS, MARKER, ensure, folder_bytes

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

REAL_ROOT = REPO / "var" / "models" / "shapes-real"
TINY_ROOT = REPO / "var" / "models"
QWEN_VOCAB = 151936
QWEN_CONTEXT = 32768


@dataclass(frozen=True)
class Shapes:
    """Where the image and chat pipelines of one shape set live, and what they are."""

    name: str
    image: Path
    chat: Path
    summary: str


def ensure_shapes(name: str, *, device: str) -> Shapes:
    """Build the `name` ("tiny" or "real") pipelines unless saved already, and return where they are."""
    if name == "tiny":
        for kind, folder in FOLDERS.items():
            ensure(TINY_ROOT / folder, kind)
        summary = "the tiny random-weight models of `make models` (var/models/tiny-sd, var/models/tiny-chat)"
        return Shapes(name, TINY_ROOT / FOLDERS["image"], TINY_ROOT / FOLDERS["chat"], summary)
    image_dtype, chat_dtype = pick_dtype(device), pick_dtype(device, text=True)
    image = REAL_ROOT / f"sd-turbo-shaped-{_tag(image_dtype)}"
    chat = REAL_ROOT / f"qwen2.5-0.5b-shaped-{_tag(chat_dtype)}"
    _ensure(image, lambda path: build_sd_turbo_shaped(path, device=device, dtype=image_dtype))
    _ensure(chat, lambda path: build_qwen_shaped(path, device=device, dtype=chat_dtype))
    summary = (
        f"random weights in real shapes: SD 2.1 / sd-turbo architecture ({_tag(image_dtype)}, "
        f"{folder_bytes(image) / 1e9:.1f} GB) and Qwen2.5-0.5B architecture "
        f"({_tag(chat_dtype)}, {folder_bytes(chat) / 1e9:.1f} GB), under {REAL_ROOT.relative_to(REPO)}"
    )
    return Shapes(name, image, chat, summary)


def _tag(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _ensure(path: Path, build: Callable[[Path], object]) -> None:
    """Build into `path` unless it holds a complete save (the marker file is written last)."""
    if (path / MARKER).is_file():
        return
    if path.exists():
        shutil.rmtree(path)
    print(f"building {path} (random weights, no download)", flush=True)
    build(path)
    (path / MARKER).write_text("complete\n", encoding="utf-8")


def build_sd_turbo_shaped(out: Path, *, device: str, dtype: Any) -> Path:
    """Save an sd-turbo-shaped pipeline (SD 2.1 UNet, OpenCLIP-H-sized text encoder) to `out`."""
    import torch
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTokenizer

    from worker.tinymodels.common import make_readable, quiet
    from worker.tinymodels.image import MAX_TOKENS, clip_vocab

    vocab, merges = clip_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_TOKENS)
    with quiet(), torch.device(device):
        torch.manual_seed(0)
        pipe = StableDiffusionPipeline(
            vae=_sd_vae(),
            text_encoder=_clip_h_text_encoder(tokenizer),
            tokenizer=tokenizer,
            unet=_sd21_unet(),
            scheduler=_turbo_scheduler(),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        pipe.to(dtype=dtype)
        pipe.save_pretrained(out, safe_serialization=True)
    make_readable(out)
    return out


def _sd_vae() -> Any:
    """Return the standard Stable Diffusion VAE (84 M parameters, latents 1/8 of the image side)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2,
        latent_channels=4,
        sample_size=768,
    ).eval()


def _turbo_scheduler() -> Any:
    """Return sd-turbo's scheduler: Euler on SD's scaled-linear betas, one step starting at t = 999."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )


def _clip_h_text_encoder(tokenizer: Any) -> Any:
    """Return a text encoder shaped like OpenCLIP ViT-H's (the 23 layers SD 2.x uses), CLIP vocabulary."""
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=49408,
        hidden_size=1024,
        intermediate_size=4096,
        projection_dim=1024,
        num_hidden_layers=23,
        num_attention_heads=16,
        hidden_act="gelu",
        max_position_embeddings=77,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return CLIPTextModel(config).eval()


def _sd21_unet() -> Any:
    """Return the Stable Diffusion 2.1 UNet (865 M parameters) for 512-pixel images."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=64,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        layers_per_block=2,
        cross_attention_dim=1024,
        attention_head_dim=(5, 10, 20, 20),
        use_linear_projection=True,
    ).eval()


def build_qwen_shaped(out: Path, *, device: str, dtype: Any) -> Path:
    """Save a Qwen2.5-0.5B-shaped decoder and a tokenizer covering all its 151,936 ids to `out`."""
    import torch
    from transformers import GenerationConfig, Qwen2ForCausalLM

    from worker.tinymodels.chat import END_OF_TEXT
    from worker.tinymodels.common import make_readable, quiet

    tokenizer = build_wide_tokenizer(QWEN_VOCAB, context=QWEN_CONTEXT)
    config = _qwen_config(tokenizer)
    with quiet(), torch.device(device):
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(config).to(dtype).eval()
        model.generation_config = GenerationConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(END_OF_TEXT)],
            pad_token_id=tokenizer.pad_token_id,
        )
        tokenizer.save_pretrained(out)
        model.save_pretrained(out, safe_serialization=True)
    make_readable(out)
    return out


def _qwen_config(tokenizer: Any) -> Any:
    """Return Qwen2.5-0.5B's architecture (494 M parameters, tied embeddings) with the tokenizer's ids."""
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=QWEN_VOCAB,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=QWEN_CONTEXT,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6},
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


# Letters and the byte-level space ("Ġ"): every regular id decodes to one to three printable characters, so
# a random-weight model's replies stream as text the way a real model's do (about three characters a token).
_LETTERS = ("Ġ", *string.ascii_letters)


def build_wide_tokenizer(vocab_size: int, *, context: int) -> PreTrainedTokenizerFast:
    """Return a tokenizer of exactly `vocab_size` ids: special tokens, the byte alphabet, letter n-grams."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    from worker.tinymodels.chat import SPECIAL_TOKENS, wrap_tokenizer

    vocab, merges = _vocab(vocab_size)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return wrap_tokenizer(tokenizer, context=context)


def _vocab(vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Return the vocabulary and the merges that build each two- and three-letter token from its parts."""
    from tokenizers import pre_tokenizers

    from worker.tinymodels.chat import SPECIAL_TOKENS

    tokens = [*SPECIAL_TOKENS, *sorted(pre_tokenizers.ByteLevel.alphabet())]
    merges: list[tuple[str, str]] = []
    for length in (2, 3):
        for letters in itertools.product(_LETTERS, repeat=length):
            if len(tokens) >= vocab_size:
                break
            merges.append(("".join(letters[:-1]), letters[-1]))
            tokens.append("".join(letters))
    if len(tokens) < vocab_size:
        raise ValueError(f"at most {len(tokens)} ids can be built, not {vocab_size}")
    return {token: index for index, token in enumerate(tokens)}, merges
