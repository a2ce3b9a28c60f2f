"""`python -m worker` starts a worker."""

from worker.main import main

main()
