"""`make bench-models`: image and chat throughput called directly, and through the API, Redis and a worker."""
