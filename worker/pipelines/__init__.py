"""Model pipelines the worker runs: diffusers text-to-image, transformers chat, sentence-transformers embeddings."""
