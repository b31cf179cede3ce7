"""Several hosts on one machine, for the multi-host tests and benchmarks of a shared (PostgreSQL)
ledger: `pose_as` makes this process another host."""

from __future__ import annotations

import time

from leadway_invoices_client._ledger import claims
from leadway_invoices_client._ledger.ledger import SendLedger


def pose_as(host: str, *, skew: float = 0.0, lease: float | None = None) -> None:
    """Make this process host `host` (the other hosts then check its claims by their lease, not by
    its pid), with its clock (`time.time`) `skew` seconds off, and, if given, every SendLedger's claims
    and locations held by `lease`-second leases (a killed host's keys reconciled within a test)."""
    real_me, real_time = claims.me, time.time

    def me() -> claims.Owner:
        mine = real_me()
        # No namespace: another "host" cannot check this pid; a rerun as the same host can.
        return claims.Owner(host, "", mine.pid, mine.start)

    claims.me = me
    if skew:
        time.time = lambda: real_time() + skew
    if lease is not None:
        defaults = SendLedger.__init__.__kwdefaults__
        assert defaults is not None
        defaults["lease"] = defaults["location_lease"] = lease
