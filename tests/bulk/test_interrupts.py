"""`_bulk/interrupts.py`: Ctrl-C during a bulk run. The first stops starting sends (those in flight
finish and are recorded), a second abandons them; either way running the command again finishes."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import SendLedger, SendState

from scripts.sandbox import DEFAULT_TOKEN

from .processes import command, command_env
from .world import build


@pytest.mark.slow
def test_ctrl_c_finishes_sends_in_flight_prints_the_summary_and_a_rerun_resumes(
    tmp_path: Path, sandbox_process: Any
) -> None:
    world = build(60, 2, {})
    rows, invoices, _ = world.write(tmp_path)
    # A small budget, so the run lasts a few seconds and the interrupt lands mid-run.
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "5", "--burst-interval-ms", "500")
    argv = command(rows, sandbox.url)

    process = subprocess.Popen(argv, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while len(sandbox.outbox()) < 10 and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    delivered_at_stop = Counter(d["invoiceId"] for d in sandbox.outbox())
    with SendLedger(Path(str(rows) + ".ledger.sqlite3")) as ledger:
        states = Counter(record.state for record in ledger.records())

    assert process.returncode == 130, err
    assert DEFAULT_TOKEN not in out + err
    assert "Stopping: no new sends" in err
    assert "not started" in out
    assert "run the same command again to resume" in out
    # Every send that started finished and was recorded: nothing is left pending.
    assert set(states) == {SendState.SENT}
    assert states[SendState.SENT] == len(delivered_at_stop) < 60
    assert set(delivered_at_stop.values()) == {1}

    rerun = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=60)

    assert rerun.returncode == 0, rerun.stderr
    assert "by an earlier run" in rerun.stdout
    assert Counter(d["invoiceId"] for d in sandbox.outbox()) == dict.fromkeys(world.deliverable, 1)


@pytest.mark.slow
def test_a_second_ctrl_c_abandons_the_sends_in_flight_and_a_rerun_reconciles_them(
    tmp_path: Path, sandbox_process: Any
) -> None:
    world = build(60, 2, {})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "5", "--burst-interval-ms", "500")
    argv = command(rows, sandbox.url)

    process = subprocess.Popen(argv, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while len(sandbox.outbox()) < 8 and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    rerun = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=60)

    assert process.returncode == 130, err
    assert "Interrupted: sends in flight were abandoned; run again to reconcile and resume" in err
    assert rerun.returncode == 0, rerun.stderr
    assert Counter(d["invoiceId"] for d in sandbox.outbox()) == dict.fromkeys(world.deliverable, 1)
