"""Pipelines with no model, for workers run by the benchmarks, the chaos soak and the tests."""

from devtools.pipelines.scripted import ScriptedImagePipeline, hold_until, tiny_png

__all__ = ["ScriptedImagePipeline", "hold_until", "tiny_png"]
