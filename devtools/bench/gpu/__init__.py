"""`make bench-gpu-pack` and the one device command: the model benchmark on a bare GPU machine."""
