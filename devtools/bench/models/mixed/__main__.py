"""`python -m devtools.bench.models.mixed` is `make bench-chat-mixed`."""

import sys

from devtools.bench.models.mixed.run import main

sys.exit(main())
