"""A bulk send over a real socket, killed with SIGKILL mid-run several times, then finished.

The sandbox runs in its own process with per-invoice faults (`--faults`); the command sends no fault
header. Whatever the kills interrupt (a send in flight, a reconciliation, a ledger write), the end
state must be: every deliverable invoice delivered exactly once, and every other row in the final
summary with its reason.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._runtime.constants import BULK_CONCURRENCY

from tests.bulk.conftest import command, command_env
from tests.bulk.world import World, build

ROWS = 300
LOCATIONS = 5
KILLS = 3
# Row index -> what it is. Spread over the file and over the locations (index % LOCATIONS).
SPECIAL = {
    **{i: "404" for i in range(7, ROWS, 61)},
    **{i: "void" for i in range(13, ROWS, 67)},
    **{i: "paid" for i in range(19, ROWS, 71)},
    **{i: "503" for i in range(23, ROWS, 53)},
    **{i: "html-500" for i in range(29, ROWS, 59)},
    **{i: "drop-after-send" for i in range(31, ROWS, 43)},
    **{i: "delayed-send:0.3" for i in range(37, ROWS, 73)},
}
# How each kind of row must end: the ledger state and what its reason names.
ENDS = {
    "sent": (SendState.SENT, ""),
    "drop-after-send": (SendState.SENT, ""),
    "delayed-send:0.3": (SendState.SENT, ""),
    "404": (SendState.NOT_SENT, "404"),
    "400": (SendState.NOT_SENT, "400"),
    "503": (SendState.NOT_SENT, "503"),
    "html-500": (SendState.NOT_SENT, "500"),
}


def _deliveries_by_invoice(outbox: list[dict[str, Any]]) -> Counter[str]:
    return Counter(delivery["invoiceId"] for delivery in outbox)


def _run_until(argv: list[str], sandbox: Any, deliveries: int, timeout: float = 60) -> int | None:
    """Run the command; SIGKILL it once the outbox holds `deliveries` (None: it ended first)."""
    process = subprocess.Popen(argv, env=command_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if len(sandbox.outbox()) >= deliveries:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return deliveries
            time.sleep(0.02)
        return None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigkilled_runs_resume_to_exactly_once(tmp_path: Path, sandbox_process: Any) -> None:
    world: World = build(ROWS, LOCATIONS, SPECIAL)
    rows, invoices, faults = world.write(tmp_path)
    fault_args = ["--faults", str(faults)] if world.faults else []
    sandbox = sandbox_process(
        "--invoices", str(invoices), *fault_args, "--burst-limit", "40", "--burst-interval-ms", "1000"
    )
    argv = command(rows, sandbox.url, "--grace-period", "1.5")
    deliverable = world.deliverable
    rng = random.Random(12)
    # Kill points spread over the run: a random count of deliveries in each third of it.
    points = [
        rng.randint(int(len(deliverable) * (k + 0.15) / KILLS), int(len(deliverable) * (k + 0.8) / KILLS))
        for k in range(KILLS)
    ]

    started = time.monotonic()
    killed = [_run_until(argv, sandbox, point) for point in points]
    killed_after = time.monotonic() - started
    finished = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=60)
    finished_after = time.monotonic() - started
    outbox = sandbox.outbox()
    again = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=60)
    print(
        f"\nkills done {killed_after:.1f} s, finished {finished_after:.1f} s, again {time.monotonic() - started:.1f} s"
    )

    assert killed == points, "every kill landed mid-run"
    per_invoice = _deliveries_by_invoice(outbox)
    assert {invoice: per_invoice[invoice] for invoice in deliverable} == dict.fromkeys(deliverable, 1)
    assert set(per_invoice) == deliverable, "nothing undeliverable was delivered"
    assert finished.returncode == 1, finished.stderr
    with SendLedger(Path(str(rows) + ".ledger.sqlite3")) as ledger:
        records = {record.key: record for record in ledger.records()}
    assert set(records) == set(world.expected)
    outcomes: Counter[str] = Counter()
    for key, kind in world.expected.items():
        record = records[key]
        state, names = ENDS[kind]
        if state is SendState.SENT:
            assert record.state is SendState.SENT, (key, kind, record)
            outcomes["sent" if kind == "sent" else f"sent despite {kind}"] += 1
            continue
        # A row refused or faulted is not sent, with the status in its reason; or, when a kill left it
        # pending and reading the invoice cannot tell (a paid or void invoice's status does not change
        # with a send, and an unknown invoice's read is a 404 that no later read cures), it needs
        # attention: never resent, shown with its evidence. Never sent either way.
        assert (record.state, names in record.reason) == (state, True) or (
            record.state is SendState.NEEDS_ATTENTION and record.evidence is not None
        ), (key, kind, record)
        outcomes[f"{kind}: {record.state}"] += 1
        line = next(line for line in finished.stdout.splitlines() if key in line)
        assert (names if record.state is SendState.NOT_SENT else "reconciled") in line, line
    attention = sum(n for outcome, n in outcomes.items() if outcome.endswith(SendState.NEEDS_ATTENTION))
    assert attention <= KILLS * BULK_CONCURRENCY, "only rows in flight at a kill can need attention"
    # A further run sends nothing again and says the same.
    assert _deliveries_by_invoice(sandbox.outbox()) == per_invoice
    assert again.returncode == 1
    print(f"\nrows {ROWS}, kills at deliveries {points}, deliveries {len(outbox)}, per outcome {dict(outcomes)}")
