"""Real local processes (Redis, S3, the API, workers) as supervised children, for `make run` and tests."""
