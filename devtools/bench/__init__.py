"""Benchmarks whose results are sections of docs/BENCHMARKS.md: the API (api) and the pipelines (models)."""
