"""`python -m api.batches`: run the batch runner until SIGTERM or SIGINT."""

import sys

from api.batches.main import main

sys.exit(main())
