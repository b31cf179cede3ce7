"""One host of several sharing a PostgreSQL ledger, for the multi-host tests and the benchmark:
`python -m tests.bulk.hosts NAME SKEW LEASE -- <the bulk command's arguments>` runs the bulk-send
command in this process as if it were host NAME (the other hosts check its claims by their lease, not
by its pid), with this host's clock (`time.time`) SKEW seconds off, and with claims and locations held
by LEASE-second leases (so that a killed host's keys are reconciled within a test, not after 10 min).
"""

from __future__ import annotations

import sys
import time

from leadway_invoices_client._ledger import claims
from leadway_invoices_client._ledger.ledger import SendLedger


def pose_as(host: str, skew: float, lease: float) -> None:
    """Make this process host `host`, its clock `skew` seconds off, its leases `lease` seconds."""
    real_me, real_time = claims.me, time.time

    def me() -> claims.Owner:
        mine = real_me()
        # No namespace: another "host" cannot check this pid; a rerun as the same host can.
        return claims.Owner(host, "", mine.pid, mine.start)

    claims.me = me
    time.time = lambda: real_time() + skew
    defaults = SendLedger.__init__.__kwdefaults__
    assert defaults is not None
    defaults["lease"] = defaults["location_lease"] = lease


def main(argv: list[str]) -> int:
    host, skew, lease, separator, *command = argv
    assert separator == "--", "usage: NAME SKEW LEASE -- ARGS"
    pose_as(host, float(skew), float(lease))
    from leadway_invoices_client.cli import main as command_main

    return command_main(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
