"""`_ledger/claims.py`: whether a claim's owner is alive. A live owner's key is left alone, a dead
one's is reconciled, and when the owner cannot be checked the lease decides."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from leadway_invoices_client._ledger import claims
from leadway_invoices_client._ledger.claims import Owner, alive, me

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
NOW = 1_000_000.0
EXPIRED, RUNNING = NOW - 1, NOW + 600


def test_a_claim_of_this_process_is_alive_while_held() -> None:
    claim = claims.new_claim()
    assert alive(me(), claim, EXPIRED, NOW)
    claims.drop_claim(claim)
    assert not alive(me(), claim, RUNNING, NOW)  # left by an interrupted send: the lease does not matter


@linux_only
def test_another_live_process_is_alive_and_a_dead_one_is_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while not claims._start_time(child.pid):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        owner = Owner(me().host, me().namespace, child.pid, claims._start_time(child.pid))
        assert alive(owner, "claim", EXPIRED, NOW)
        # The same pid with another start time is a later process that got the pid: not the owner.
        assert not alive(Owner(owner.host, owner.namespace, owner.pid, "1"), "claim", RUNNING, NOW)
        child.kill()
        child.wait()
        assert not alive(owner, "claim", RUNNING, NOW)
    finally:
        child.kill()
        child.wait()


@linux_only
def test_a_killed_child_not_yet_reaped_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while not (start := claims._start_time(child.pid)):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        owner = Owner(me().host, me().namespace, child.pid, start)
        child.kill()
        while alive(owner, "claim", RUNNING, NOW):  # a zombie runs no code: dead before it is reaped
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert child.returncode is None  # not reaped yet: the zombie alone was judged dead
    finally:
        child.kill()
        child.wait()


def test_an_owner_on_another_host_is_trusted_only_while_its_lease_runs() -> None:
    stranger = Owner("another-host", "", 4242, "")
    assert alive(stranger, "claim", RUNNING, NOW)
    assert not alive(stranger, "claim", EXPIRED, NOW)


@linux_only
def test_an_owner_from_before_a_reboot_is_dead_whatever_its_lease() -> None:
    mine = me()
    boot, _, namespace = mine.namespace.partition("/")
    before_reboot = Owner(mine.host, f"{'0' * len(boot)}/{namespace}", 4242, "123")
    assert not alive(before_reboot, "claim", RUNNING, NOW)
