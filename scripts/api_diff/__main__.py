import sys

from scripts.api_diff.cli import main

sys.exit(main())
