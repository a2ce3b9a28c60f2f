"""`python -m devtools.scaling` is `make scaling-sim`."""

import sys

from devtools.scaling.sim import main

sys.exit(main())
