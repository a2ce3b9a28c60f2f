"""Celery workers that run the model pipelines."""
