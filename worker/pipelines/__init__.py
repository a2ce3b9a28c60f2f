"""Model pipelines the worker runs: diffusers images, transformers chat, sentence-transformers embeddings."""
