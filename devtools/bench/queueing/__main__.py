"""`python -m devtools.bench.queueing` is the queueing part of `make bench`."""

from devtools.bench.queueing.run import main

main()
