"""`python -m webhooks`: run the webhook sender until SIGTERM or SIGINT."""

import sys

from webhooks.main import main

sys.exit(main())
