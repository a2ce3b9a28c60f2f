"""`python -m devtools.bench.api` is `make bench`."""

from devtools.bench.api.run import main

main()
