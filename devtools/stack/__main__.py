"""`python -m devtools.stack` is `make run`."""

import sys

from devtools.stack.run import main

sys.exit(main())
