"""Tests that the tiny models build, load through the real loaders, and behave like the real models."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import AutoPipelineForText2Image, StableDiffusionPipeline
from jinja2.exceptions import TemplateError
from PIL import Image
from safetensors.torch import load_file
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    CLIPTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from worker.tinymodels.__main__ import MARKER, main
from worker.tinymodels.chat import build_chat_model
from worker.tinymodels.common import quiet
from worker.tinymodels.image import MERGE_WORDS, build_image_pipeline

Chat = tuple[PreTrainedTokenizerBase, PreTrainedModel]
REPO = Path(__file__).resolve().parents[2]
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Tell me about the red fox."},
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build both models once, through the command line entry point."""
    out = tmp_path_factory.mktemp("models")
    assert main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pipe(models_dir: Path) -> StableDiffusionPipeline:
    """Load the image pipeline through the real auto-pipeline loader."""
    with quiet():
        loaded = AutoPipelineForText2Image.from_pretrained(models_dir / "tiny-sd")
    loaded.set_progress_bar_config(disable=True)
    return loaded


@pytest.fixture(scope="module")
def chat(models_dir: Path) -> Chat:
    """Load the chat tokenizer and model through the real auto classes."""
    with quiet():
        tokenizer = AutoTokenizer.from_pretrained(models_dir / "tiny-chat")
        model = AutoModelForCausalLM.from_pretrained(models_dir / "tiny-chat")
    return tokenizer, model


def generate(
    pipe: StableDiffusionPipeline, width: int, height: int, *, seed: int = 1, count: int = 1
) -> list[Image.Image]:
    """Run a two-step guided generation of `count` images and return them as PIL images."""
    result = pipe(
        "a red fox",
        negative_prompt="blurry",
        width=width,
        height=height,
        num_inference_steps=2,
        guidance_scale=7.5,
        num_images_per_prompt=count,
        generator=torch.Generator().manual_seed(seed),
        output_type="pil",
    )
    return result.images


def pixels(image: Image.Image) -> np.ndarray:
    """Return the image as a signed integer array, so differences do not wrap."""
    return np.asarray(image).astype(np.int16)


def test_image_pipeline_loads_as_stable_diffusion(pipe: StableDiffusionPipeline) -> None:
    assert type(pipe) is StableDiffusionPipeline
    assert pipe.vae_scale_factor == 8
    assert pipe.safety_checker is None
    assert pipe.tokenizer.model_max_length == pipe.text_encoder.config.max_position_embeddings == 77


@pytest.mark.parametrize(("width", "height"), [(128, 96), (72, 64), (64, 136)])
def test_images_have_exact_size(pipe: StableDiffusionPipeline, width: int, height: int) -> None:
    images = generate(pipe, width, height, count=2)
    assert [image.size for image in images] == [(width, height)] * 2
    assert all(image.mode == "RGB" for image in images)


def test_sides_not_multiple_of_8_are_rejected(pipe: StableDiffusionPipeline) -> None:
    with pytest.raises(ValueError, match="divisible by 8"):
        generate(pipe, 100, 96)


def test_same_seed_same_pixels_other_seed_other_pixels(pipe: StableDiffusionPipeline) -> None:
    first, again, other = (pixels(generate(pipe, 128, 96, seed=seed)[0]) for seed in (1, 1, 2))
    assert np.array_equal(first, again)
    assert np.abs(first - other).mean() > 5


def test_images_are_not_flat_and_differ_within_a_batch(pipe: StableDiffusionPipeline) -> None:
    one, two = (pixels(image) for image in generate(pipe, 128, 96, count=2))
    assert one.std() > 10
    assert np.abs(one - two).mean() > 5


def test_step_callback_runs_once_per_step(pipe: StableDiffusionPipeline) -> None:
    steps: list[int] = []

    def record(pipeline: StableDiffusionPipeline, step: int, timestep: torch.Tensor, kwargs: dict) -> dict:
        steps.append(step)
        return kwargs

    pipe("a red fox", width=64, height=64, num_inference_steps=3, callback_on_step_end=record)
    assert steps == [0, 1, 2]


def test_clip_tokenizer_merges_and_vocab_files_agree(
    pipe: StableDiffusionPipeline, models_dir: Path, tmp_path: Path
) -> None:
    assert all(len(pipe.tokenizer.tokenize(word)) == 1 for word in MERGE_WORDS)
    # Loading from vocab.json and merges.txt alone must give the same ids as tokenizer.json.
    slow_dir = shutil.copytree(models_dir / "tiny-sd" / "tokenizer", tmp_path / "tokenizer")
    (slow_dir / "tokenizer.json").unlink()
    text = "A red FOX, blurry photo of the dog 🦊 狐"
    assert CLIPTokenizer.from_pretrained(slow_dir)(text).input_ids == pipe.tokenizer(text).input_ids


def test_chat_template_renders_roles_and_generation_prompt(chat: Chat) -> None:
    tokenizer, _ = chat
    text = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    assert text.startswith(
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
    )
    assert "user<|end_header_id|>\n\nTell me about the red fox.<|eot_id|>" in text
    assert text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    plain = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=False, tokenize=False)
    assert plain.endswith("<|eot_id|>")


def test_chat_template_rejects_unknown_roles(chat: Chat) -> None:
    tokenizer, _ = chat
    with pytest.raises(TemplateError, match="Unknown role"):
        tokenizer.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)


def test_generate_produces_new_decodable_tokens(chat: Chat) -> None:
    tokenizer, model = chat
    inputs = tokenizer.apply_chat_template(
        MESSAGES, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    prompt_len = inputs["input_ids"].shape[1]
    output = model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=False)
    assert output.shape == (1, prompt_len + 8)
    assert torch.equal(output[0, :prompt_len], inputs["input_ids"][0])
    new = output[0, prompt_len:].tolist()
    assert all(0 <= t < model.config.vocab_size for t in new)
    assert tokenizer.pad_token_id not in new  # generated, not padding
    assert all(tokenizer.convert_ids_to_tokens(t) is not None for t in new)  # each id is a real token
    text = tokenizer.decode(new, skip_special_tokens=True)
    assert text  # the tokens decode to text


def test_special_tokens_and_generation_config_agree(chat: Chat) -> None:
    tokenizer, model = chat
    assert model.config.vocab_size == len(tokenizer)
    assert model.generation_config.eos_token_id == [
        tokenizer.eos_token_id,
        tokenizer.convert_tokens_to_ids("<|end_of_text|>"),
    ]
    assert model.generation_config.pad_token_id == model.config.pad_token_id == tokenizer.pad_token_id
    assert tokenizer("hi").input_ids[0] == tokenizer.bos_token_id


def test_byte_level_tokenizer_round_trips_any_text(chat: Chat) -> None:
    tokenizer, _ = chat
    text = "Héllo wörld 🦊 ,  spaced\n\ttabs … 日本語"
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == text
    assert tokenizer.unk_token_id is None or tokenizer.unk_token_id not in ids


@pytest.mark.parametrize(
    ("build", "folder", "weights"),
    [
        (build_image_pipeline, "tiny-sd", "unet/diffusion_pytorch_model.safetensors"),
        (build_chat_model, "tiny-chat", "model.safetensors"),
    ],
)
def test_weights_are_a_function_of_the_seed(
    build: Callable[..., Path], folder: str, weights: str, models_dir: Path, tmp_path: Path
) -> None:
    saved = load_file(models_dir / folder / weights)
    same = load_file(build(tmp_path / "same", seed=0) / weights)
    other = load_file(build(tmp_path / "other", seed=1) / weights)
    assert all(torch.equal(saved[name], same[name]) for name in saved)
    assert not all(torch.equal(saved[name], other[name]) for name in saved)


def test_saved_files_are_readable_by_everyone(models_dir: Path) -> None:
    files = [path for path in models_dir.rglob("*") if path.is_file()]
    assert files
    assert all(path.stat().st_mode & 0o044 == 0o044 for path in files)


def test_cli_rerun_keeps_complete_folders(models_dir: Path) -> None:
    before = {path: path.stat().st_mtime_ns for path in models_dir.rglob("*") if path.is_file()}
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "worker.tinymodels", "--out", str(models_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert time.monotonic() - started < 5
    assert [line.split()[:2] for line in run.stdout.splitlines()] == [
        ["kept", str(models_dir / "tiny-sd")],
        ["kept", str(models_dir / "tiny-chat")],
    ]
    assert {path: path.stat().st_mtime_ns for path in models_dir.rglob("*") if path.is_file()} == before


def test_cli_rebuilds_a_folder_without_marker_and_on_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    half = tmp_path / "tiny-chat"
    half.mkdir()
    (half / "leftover.bin").write_bytes(b"partial")
    assert main(["--out", str(tmp_path), "--only", "chat"]) == 0
    assert not (half / "leftover.bin").exists()
    assert (half / MARKER).is_file()
    assert (half / "model.safetensors").is_file()
    assert main(["--out", str(tmp_path), "--only", "chat", "--force"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["built", "built"]
    assert not (tmp_path / "tiny-sd").exists()
