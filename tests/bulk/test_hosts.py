"""Hosts sharing one PostgreSQL ledger (`hosts.py`: separate processes, each with its own host identity)
sending the same file against the sandbox in its own process: each invoice delivered once, whatever
kills, a restarted server, killed backends and clocks 30 s apart do; a rerun finishes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import SendLedger, SendState

from scripts.pg_server import PgServer

from .processes import command_env
from .world import World, build

HOSTS = ("host-a", "host-b", "host-c")
SKEWS = {"host-a": 0.0, "host-b": 30.0, "host-c": -30.0}  # seconds each host's clock is off


def host_argv(name: str, rows: Path, base_url: str, ledger: str, lease: float) -> list[str]:
    return [
        *(sys.executable, "-m", "tests.bulk.hosts", name, str(SKEWS[name]), str(lease), "--"),
        *("send", str(rows), "--base-url", base_url, "--ledger", ledger, "--workers", "1", "--grace-period", "1"),
    ]


def start(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def delivered(outbox: list[dict[str, Any]]) -> Counter[str]:
    return Counter(delivery["invoiceId"] for delivery in outbox)


def exactly_once(world: World, outbox: list[dict[str, Any]]) -> None:
    per_invoice = delivered(outbox)
    assert {invoice: per_invoice[invoice] for invoice in world.deliverable} == dict.fromkeys(world.deliverable, 1)
    assert set(per_invoice) == world.deliverable


@pytest.mark.slow  # processes, seconds long: tests-3.11 runs it
def test_three_hosts_sending_one_file_deliver_each_invoice_once(
    tmp_path: Path, sandbox_process: Any, pg_url: str
) -> None:
    world = build(36, 3, {})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "30", "--burst-interval-ms", "1000")
    hosts = [start(host_argv(name, rows, sandbox.url, pg_url, lease=5.0)) for name in HOSTS]
    ended = [finish(host) for host in hosts]

    assert [code for code, _ in ended] == [0, 0, 0], ended
    exactly_once(world, sandbox.outbox())
    with SendLedger(pg_url) as ledger:
        records = ledger.records()
    assert len(records) == len(world.rows)
    assert {record.state for record in records} == {SendState.SENT}
    # One host at a time per location: no two hosts spent one location's budget at once.
    assert "429" not in "".join(out for _, out in ended)


@pytest.mark.slow
def test_hosts_killed_a_restarted_server_and_killed_backends_cost_no_send_and_double_none(
    tmp_path: Path, sandbox_process: Any, pg_url: str, pg_server: PgServer
) -> None:
    """Three hosts send one file (100 rows, 5 locations); in turn one is SIGKILLed and started again,
    the server is restarted, every backend is killed; then a rerun on each host finishes."""
    world = build(100, 5, {})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "20", "--burst-interval-ms", "1000")
    lease = 1.0
    running = {name: start(host_argv(name, rows, sandbox.url, pg_url, lease)) for name in HOSTS}
    rng = random.Random(17)
    faults = ["kill", "restart-server", "kill", "kill-backends", "kill"]
    points = sorted(rng.sample(range(10, len(world.rows) - 30), len(faults)))
    done: list[str] = []
    began = time.monotonic()
    for fault, point in zip(faults, points, strict=True):
        deadline = time.monotonic() + 120
        while len(sandbox.outbox()) < point and time.monotonic() < deadline:
            time.sleep(0.02)
        if fault == "kill":
            victim = rng.choice(HOSTS)
            os.kill(running[victim].pid, signal.SIGKILL)
            running[victim].communicate()
            running[victim] = start(host_argv(victim, rows, sandbox.url, pg_url, lease))
        elif fault == "restart-server":
            pg_server.restart()
        else:
            pg_server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE usename = 'ledger' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        done.append(f"{fault} at {len(sandbox.outbox())} ({time.monotonic() - began:.1f} s)")
    first_runs = [finish(host) for host in running.values()]
    done.append(f"first runs ended ({time.monotonic() - began:.1f} s)")
    time.sleep(lease)  # the claims of the killed hosts' last sends run out
    reruns = [finish(rerun) for rerun in [start(host_argv(name, rows, sandbox.url, pg_url, lease)) for name in HOSTS]]
    outbox = sandbox.outbox()
    done.append(f"reruns ended ({time.monotonic() - began:.1f} s)")
    print(f"\n{done}; first runs exit {[c for c, _ in first_runs]}, reruns exit {[c for c, _ in reruns]}")

    assert len(done) == len(faults) + 2, "every fault landed mid-run"
    exactly_once(world, outbox)
    assert [code for code, _ in reruns] == [0, 0, 0], reruns[0][1][-3000:]
    with SendLedger(pg_url) as ledger:
        states = Counter(record.state for record in ledger.records())
    assert states == {SendState.SENT: len(world.rows)}
