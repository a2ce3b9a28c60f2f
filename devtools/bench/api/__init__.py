"""`make bench`: the API's speed, latency and memory, each beside a baseline or target from the same run."""
