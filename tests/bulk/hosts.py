"""One host of several sharing a PostgreSQL ledger, for the multi-host tests:
`python -m tests.bulk.hosts NAME SKEW LEASE -- <the bulk command's arguments>` runs the bulk-send
command in this process as host NAME, its clock SKEW seconds off, its leases LEASE seconds
(`scripts.hosts.pose_as`)."""

from __future__ import annotations

import sys

from scripts.hosts import pose_as


def main(argv: list[str]) -> int:
    host, skew, lease, separator, *command = argv
    assert separator == "--", "usage: NAME SKEW LEASE -- ARGS"
    pose_as(host, skew=float(skew), lease=float(lease))
    from leadway_invoices_client.cli import main as command_main

    return command_main(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
