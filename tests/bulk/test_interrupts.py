"""`_bulk/interrupts.py`: Ctrl-C during a bulk run. The first stops starting sends (those in flight
finish and are recorded), a second abandons them; either way running the command again finishes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._bulk.interrupts import on_interrupt
from leadway_invoices_client.cli.command import default_ledger

from scripts.sandbox import DEFAULT_TOKEN

from .processes import command, command_env
from .world import build

# How a run is stopped: Ctrl-C in a terminal; SIGTERM to the command (`kill`, `timeout`); SIGTERM to
# every process of the job, its workers too (systemd's default, a container's stop).
STOPS = [
    pytest.param(signal.SIGINT, False, 130, id="ctrl-c"),
    pytest.param(signal.SIGTERM, False, 143, id="sigterm"),
    pytest.param(signal.SIGTERM, True, 143, id="sigterm-to-every-process"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "to_every_process", "exit_code"), STOPS)
def test_a_stop_finishes_sends_in_flight_prints_the_summary_and_a_rerun_resumes(
    tmp_path: Path, sandbox_process: Any, signum: signal.Signals, to_every_process: bool, exit_code: int
) -> None:
    world = build(60, 2, {})  # two locations: two worker processes
    rows, invoices, _ = world.write(tmp_path)
    # A small budget, so the run lasts a few seconds and the signal lands mid-run.
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "5", "--burst-interval-ms", "500")
    argv = command(rows, sandbox.url)

    process = subprocess.Popen(
        argv,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a service has
    )
    while len(sandbox.outbox()) < 10 and process.poll() is None:
        time.sleep(0.02)
    if to_every_process:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    delivered_at_stop = Counter(d["invoiceId"] for d in sandbox.outbox())
    with SendLedger(default_ledger()) as ledger:
        states = Counter(record.state for record in ledger.records())

    assert process.returncode == exit_code, err
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


# --- on_interrupt itself --------------------------------------------------------------------------


@pytest.fixture
def previous() -> Iterator[list[str]]:
    """A SIGINT handler of the test's own in place (it records its calls), put back afterwards."""
    seen: list[str] = []
    before = signal.signal(signal.SIGINT, lambda *_: seen.append("previous"))
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, before)


def test_the_first_ctrl_c_calls_first_each_later_one_again_and_the_handler_is_put_back(previous: list[str]) -> None:
    installed = signal.getsignal(signal.SIGINT)
    calls: list[str] = []
    with on_interrupt(lambda: calls.append("first"), again=lambda: calls.append("again")):
        for _ in range(3):
            signal.raise_signal(signal.SIGINT)

    assert calls == ["first", "again", "again"]
    assert previous == []
    assert signal.getsignal(signal.SIGINT) is installed


def test_without_again_a_second_ctrl_c_interrupts_as_before(previous: list[str]) -> None:
    calls: list[str] = []
    with on_interrupt(lambda: calls.append("first")):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    assert calls == ["first"]
    assert previous == ["previous"]


def test_in_a_running_loop_the_loop_calls_them(previous: list[str]) -> None:
    calls: list[str] = []

    async def main() -> bool:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def first() -> None:
            calls.append("first")
            stop.set()

        with on_interrupt(first, again=lambda: calls.append("again")):
            signal.raise_signal(signal.SIGINT)
            assert calls == []  # not from the signal handler: the loop calls it, where asyncio objects may be touched
            await asyncio.wait_for(stop.wait(), 10)
            signal.raise_signal(signal.SIGINT)
            await asyncio.sleep(0.05)
        return loop.remove_signal_handler(signal.SIGINT)  # False: none left behind

    assert asyncio.run(main()) is False
    assert calls == ["first", "again"]
    assert previous == []


def test_where_no_handler_can_be_installed_ctrl_c_keeps_its_meaning(previous: list[str]) -> None:
    installed = signal.getsignal(signal.SIGINT)
    ran: list[bool] = []

    def in_a_thread() -> None:  # only the main thread may set signal handlers
        with on_interrupt(lambda: None):
            ran.append(signal.getsignal(signal.SIGINT) is installed)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join(10)

    assert ran == [True]
