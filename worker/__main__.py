"""`python -m worker` starts a worker."""

import os

# Before torch is imported: CUDA is looked for through NVML in this process, so nothing it does before
# the pool forks leaves a CUDA context behind (PyTorch's "poison fork"); pool processes start CUDA.
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")

from worker.main import main

main()
