"""``python -m analytics``: the command line (see analytics/cli.py)."""

import sys

from analytics.cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # output piped into `head` and the like
    sys.exit(0)
