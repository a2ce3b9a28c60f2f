"""The image pipeline's UNet options (LLMB_IMAGE_CHANNELS_LAST, LLMB_IMAGE_COMPILE) on the tiny model."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from PIL import Image

from devtools.bench.models.direct import check, run_direct
from shared.inputs import ImageInput
from shared.job_record import JobStatus
from shared.settings import Settings
from tests.fixtures.jobs import submit
from worker.delivery import run_job
from worker.pipelines.image import DiffusersImagePipeline
from worker.pipelines.unet import warm_up

TINY_SD = Path(__file__).resolve().parents[2] / "var" / "models" / "tiny-sd"
EAGER_UNET = "UNet2DConditionModel"


@pytest.fixture
def compile_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """torch.compile on dynamo's "eager" backend: the UNet is traced as for inductor, in seconds, not minutes.

    Inductor's code generation on a 2-core machine takes minutes per shape; what it would get (the
    traced graphs, the guards, the pipeline calling the compiled module) is the same. The slow test
    below compiles with inductor itself.
    """
    calls: list[dict[str, Any]] = []
    real = torch.compile

    def compile_eagerly(model: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(model, backend="eager", fullgraph=kwargs["fullgraph"])

    monkeypatch.setattr(torch, "compile", compile_eagerly)
    yield calls
    torch._dynamo.reset()


def loaded(settings: Settings, **options: object) -> DiffusersImagePipeline:
    """The worker's image pipeline on the tiny model with these settings, loaded and warmed up."""
    pipeline = DiffusersImagePipeline(settings.model_copy(update={"image_model": str(TINY_SD), **options}))
    pipeline.load()
    return pipeline


def run_image_job(runtime_for: Any, pipeline: DiffusersImagePipeline) -> list[Image.Image]:
    """Run one two-image 96×64 job through the worker with `pipeline`; its stored PNGs, decoded."""
    rt = runtime_for(pipeline)
    job = submit(rt.store, prompt="a red fox", steps=2, num_images=2, width=96, height=64)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.SUCCEEDED, record.error
    return [Image.open(io.BytesIO(rt.storage.get(f["key"]))) for f in record.result["files"]]


def assert_pngs_of_size(images: list[Image.Image]) -> None:
    assert len(images) == 2
    for image in images:
        assert (image.format, image.size, image.mode) == ("PNG", (96, 64), "RGB")
        image.verify()


def channels_last(module: torch.nn.Module) -> bool:
    return bool(module.weight.is_contiguous(memory_format=torch.channels_last))


@pytest.mark.parametrize("compile_mode", ["off", "max-autotune"])  # any mode: it is passed through
@pytest.mark.parametrize("in_channels_last", [False, True])
def test_each_setting_loads_and_an_image_job_gives_pngs_of_its_size(
    settings: Settings,
    runtime_for: Any,
    compile_calls: list[dict[str, Any]],
    compile_mode: str,
    in_channels_last: bool,
) -> None:
    pipeline = loaded(settings, image_channels_last=in_channels_last, image_compile=compile_mode)
    unet = pipeline.pipe.unet
    # A compiled UNet is torch's wrapper around the same module; its layers are the module's.
    assert (type(unet).__name__ != EAGER_UNET) is (compile_mode != "off")
    assert compile_calls == ([] if compile_mode == "off" else [{"mode": compile_mode, "fullgraph": False}])
    for conv in (unet.conv_in, unet.down_blocks[1].resnets[0].conv1, pipeline.pipe.vae.decoder.conv_in):
        assert channels_last(conv) is in_channels_last
    assert_pngs_of_size(run_image_job(runtime_for, pipeline))


class ThreadNoting(DiffusersImagePipeline):
    """The image pipeline, noting the thread of its warm-up call and of each diffusers call after it."""

    threads: list[int]

    def warm_up_call(self, pipe: Any) -> None:
        self.threads = [threading.get_ident()]
        super().warm_up_call(pipe)

    def load(self) -> None:
        super().load()
        diffusers_call = self.pipe

        def noted(**kwargs: Any) -> Any:
            self.threads.append(threading.get_ident())
            return diffusers_call(**kwargs)

        self.pipe = noted


@pytest.mark.parametrize("compile_mode", ["off", "reduce-overhead"])
def test_a_compiled_unet_runs_on_one_thread_whichever_thread_runs_the_batch(
    settings: Settings, compile_calls: list[dict[str, Any]], compile_mode: str
) -> None:
    # torch keeps CUDA graphs per thread; the threads pool runs a batch on its leading delivery's thread.
    pipeline = ThreadNoting(
        settings.model_copy(update={"image_model": str(TINY_SD), "image_compile": compile_mode})
    )
    pipeline.load()
    job = ImageInput(prompt="a red fox", steps=1, width=64, height=64, seed=1)
    caller_threads = set()
    with ThreadPoolExecutor(1) as first, ThreadPoolExecutor(1) as second:
        for delivery in (first, second):  # one batch after the other (LLMB_DEVICE_BATCHES=1)
            ident, outputs = delivery.submit(
                lambda: (threading.get_ident(), run_direct(pipeline, [job]))
            ).result()
            assert len(check(outputs)) == 1
            caller_threads.add(ident)
    assert len(caller_threads) == 2
    assert len(pipeline.threads) == 3  # the warm-up and two batches
    if compile_mode == "off":
        assert set(pipeline.threads) == caller_threads | {threading.get_ident()}
    else:
        assert len(set(pipeline.threads)) == 1
        assert not set(pipeline.threads) & (caller_threads | {threading.get_ident()})


def test_two_batches_at_once_on_one_pipeline_take_turns_and_both_succeed(settings: Settings) -> None:
    # LLMB_DEVICE_BATCHES=2 gives two batches the device at once; the scheduler's per-call state
    # (its step index) would be shared between them (an IndexError in the Euler scheduler).
    pipeline = loaded(settings)
    jobs = [ImageInput(prompt=p, steps=3, width=64, height=64, seed=1) for p in ("a fox", "a hen")]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda job: run_direct(pipeline, [job, job]), jobs))
    assert [len(check(outputs)) for outputs in results] == [2, 2]


def _raise_at_compile(model: Any, **kwargs: Any) -> Any:
    raise RuntimeError("torch.compile is not supported here")


def _raise_in_backend(model: Any, **kwargs: Any) -> Any:
    def no_compiler(graph: Any, example_inputs: Any) -> Any:
        raise RuntimeError("no C++ compiler found")  # what inductor meets on a machine without one

    return torch._dynamo.optimize(backend=no_compiler)(model)


@pytest.mark.parametrize(
    "case", [(_raise_at_compile, "not supported here"), (_raise_in_backend, "no C++ compiler found")]
)
def test_a_compile_that_fails_is_logged_naming_the_setting_and_the_unet_runs_eagerly(
    settings: Settings,
    runtime_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    case: tuple[Any, str],
) -> None:
    broken, message = case
    monkeypatch.setattr(torch, "compile", broken)
    with caplog.at_level(logging.WARNING, logger="worker.pipelines.unet"):
        pipeline = loaded(settings, image_compile="reduce-overhead")
    torch._dynamo.reset()
    assert type(pipeline.pipe.unet).__name__ == EAGER_UNET
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "LLMB_IMAGE_COMPILE=reduce-overhead" in warning.getMessage()
    assert "runs uncompiled" in warning.getMessage()
    assert message in warning.getMessage()
    assert_pngs_of_size(run_image_job(runtime_for, pipeline))


def test_a_warm_up_that_fails_eagerly_too_fails_the_load(caplog: pytest.LogCaptureFixture) -> None:
    # A compile failure falls back; what the uncompiled call raises then (a broken model) fails the load.
    pipe = SimpleNamespace(unet=object())  # torch.compile refuses it: not callable
    eager = pipe.unet

    def broken_model(_pipe: Any) -> None:
        raise ValueError("the model is broken")

    with pytest.raises(ValueError, match="the model is broken"):
        warm_up(pipe, "default", broken_model)
    assert pipe.unet is eager
    assert "LLMB_IMAGE_COMPILE=default" in caplog.text


@pytest.mark.compile  # `make test-compile`: `make test` compiles with dynamo's eager backend (above)
# Importing inductor imports a module that uses torch.jit.script_method (torch 2.13): torch's own to drop.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_inductor_compiles_the_unet_and_a_job_of_the_warm_up_size_runs(
    settings: Settings, runtime_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Inductor itself (a C++ compiler on the CPU): about 70 s for the warm-up's compile on a 2-core machine.
    try:
        pipeline = loaded(settings, image_channels_last=True, image_compile="default")
        assert "LLMB_IMAGE_COMPILE" not in caplog.text  # no fallback to eager
        assert type(pipeline.pipe.unet).__name__ == "OptimizedModule"
        rt = runtime_for(pipeline)
        job = submit(rt.store, prompt="a red fox", steps=1, num_images=1, width=64, height=64)
        run_job(job.id, rt)
        record = rt.store.get(job.id)
        assert record.status == JobStatus.SUCCEEDED, record.error
        image = Image.open(io.BytesIO(rt.storage.get(record.result["files"][0]["key"])))
        assert (image.format, image.size) == ("PNG", (64, 64))
    finally:
        torch._dynamo.reset()
