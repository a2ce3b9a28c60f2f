"""`python -m devtools.bench.models` is `make bench-models`."""

import sys

from devtools.bench.models.run import main

sys.exit(main())
