"""`python -m scripts.upstream_drift`: the command (`cli.main`)."""

import sys

from scripts.upstream_drift.cli import main

sys.exit(main())
