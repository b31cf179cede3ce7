"""`python -m leadway_invoices_client.cli`: the `leadway-invoices` command."""

import sys

from . import main

sys.exit(main())
