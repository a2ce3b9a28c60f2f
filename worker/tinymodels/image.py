"""A tiny Stable-Diffusion-shaped text-to-image pipeline with random weights, saved like a real checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
from tokenizers.pre_tokenizers import ByteLevel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from worker.tinymodels.common import make_readable, quiet

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
WORD_END = "</w>"
# CLIP's context length; the pipeline pads every prompt to the tokenizer's model_max_length.
MAX_TOKENS = 77
# Common prompt words get whole-word tokens so the merge table is exercised, not only single bytes;
# they are chosen so no word's merges cut into another's, and each ends as exactly one token.
MERGE_WORDS = ("the", "red", "fox", "cat", "dog", "of", "photo", "blurry")


def build_image_pipeline(out_dir: Path, *, seed: int = 0) -> Path:
    """Build the tiny pipeline with weights drawn from `seed` and save it to `out_dir`, which is returned."""
    out_dir = Path(out_dir)
    vocab, merges = clip_vocab()
    with quiet(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # Merges go in as (left, right) pairs: tokenizers' BPE rejects the space-joined strings hinted.
        tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_TOKENS)
        pipe = StableDiffusionPipeline(
            vae=_vae(),
            text_encoder=_text_encoder(tokenizer),
            tokenizer=tokenizer,
            unet=_unet(),
            scheduler=_scheduler(),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        pipe.save_pretrained(out_dir, safe_serialization=True)
    _write_vocab_files(out_dir / "tokenizer", vocab, merges)
    make_readable(out_dir)
    return out_dir


def clip_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Return a CLIP-style byte-level vocabulary and merge list that can encode any text."""
    alphabet = sorted(ByteLevel.alphabet())
    merges = list(dict.fromkeys(merge for word in MERGE_WORDS for merge in _word_merges(word)))
    tokens = [*alphabet, *(char + WORD_END for char in alphabet)]
    tokens += [left + right for left, right in merges]
    tokens += [BOS, EOS]
    return {token: index for index, token in enumerate(dict.fromkeys(tokens))}, merges


def _word_merges(word: str) -> list[tuple[str, str]]:
    """Return the merges that join `word` left to right into a single end-of-word token."""
    parts = [*word[:-1], word[-1] + WORD_END]
    merges, joined = [], parts[0]
    for part in parts[1:]:
        merges.append((joined, part))
        joined += part
    return merges


def _write_vocab_files(tokenizer_dir: Path, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    """Write vocab.json and merges.txt beside tokenizer.json, as real SD checkpoints ship them."""
    lines = ["#version: 0.2", *(f"{left} {right}" for left, right in merges)]
    (tokenizer_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (tokenizer_dir / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _text_encoder(tokenizer: CLIPTokenizer) -> CLIPTextModel:
    """Return a two-layer CLIP text encoder whose embedding table matches `tokenizer`."""
    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=MAX_TOKENS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return CLIPTextModel(config).eval()


def _unet() -> UNet2DConditionModel:
    """Return a two-level UNet with one cross-attention level conditioned on 32-wide text embeddings."""
    return UNet2DConditionModel(
        sample_size=32,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        # diffusers reads this legacy name as the number of heads (issue 2011), as SD 1.x configs do.
        attention_head_dim=4,
        norm_num_groups=32,
    ).eval()


def _vae() -> AutoencoderKL:
    """Return a four-level VAE so the latent is 1/8 of the image side, exactly as in real SD."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 16, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=256,
    ).eval()


def _scheduler() -> EulerDiscreteScheduler:
    """Return an Euler scheduler on Stable Diffusion's scaled-linear beta schedule."""
    return EulerDiscreteScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        prediction_type="epsilon",
        timestep_spacing="leading",
        steps_offset=1,
    )
