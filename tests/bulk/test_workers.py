"""`_bulk/workers.py`: several worker processes share a bulk send by location, still send each key
exactly once, and die with their parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client._bulk.workers import WORKERS_SUPPORTED, shares, split, worker_count
from leadway_invoices_client.cli.command import default_ledger
from leadway_invoices_client.models import SendAction

from scripts.project import READ_PATH, example
from scripts.sandbox import DEFAULT_TOKEN

from .processes import command, command_env
from .world import build

SEND_BODY = example("response", "leadwayPage")
READ_BODY = example("response", "upstreamExample", path=READ_PATH, method="get")


def _row(line: int, location: str) -> BulkRow:
    return BulkRow(line, f"k{line}", f"inv{line}", location, "user", SendAction.EMAIL, False)


def test_split_gives_each_location_to_one_worker_balanced_and_in_file_order() -> None:
    rows = [_row(line, location) for line, location in enumerate("aabacbdaab")]

    shares = split(rows, 2)

    by_worker = [{rows[index].location_id for index in share} for share in shares]
    assert len(shares) == 2
    assert by_worker[0].isdisjoint(by_worker[1])
    assert sorted(index for share in shares for index in share) == list(range(len(rows)))
    assert all(share == sorted(share) for share in shares)
    assert sorted(len(share) for share in shares) == [5, 5]  # a: 5 rows; b, c, d: 3, 1, 1


def test_split_never_makes_an_idle_worker() -> None:
    rows = [_row(line, "only") for line in range(4)]

    assert split(rows, 3) == [[0, 1, 2, 3]]
    assert split([], 3) == []


@pytest.mark.skipif(not WORKERS_SUPPORTED, reason="one process sends where workers are not supported")
def test_worker_count_is_one_per_core_at_most_one_per_location() -> None:
    rows = [object()] * 10
    assert worker_count(3, rows, 2, 16) == 2
    assert worker_count(3, rows, 5, 16) == 3
    assert worker_count(None, rows, 1, 16) == 1
    assert worker_count(None, rows, 64, 16) == max(1, min(os.cpu_count() or 1, 16))
    assert worker_count(4, [], 0, 16) == 1


def test_concurrency_is_a_total_never_more_workers_than_sends_in_flight() -> None:
    rows = [object()] * 10
    assert worker_count(4, rows, 8, 1) == 1
    assert worker_count(4, rows, 8, 3) == 3


@given(total=st.integers(1, 500), parts=st.integers(1, 64))
def test_shares_add_up_to_the_total_and_differ_by_at_most_one(total: int, parts: int) -> None:
    split_up = shares(total, min(parts, total))

    assert sum(split_up) == total
    assert max(split_up) - min(split_up) <= 1
    assert min(split_up) >= 1


def test_three_workers_send_every_key_exactly_once_and_a_rerun_sends_nothing(
    tmp_path: Path, sandbox_process: Any
) -> None:
    world = build(90, 6, {7: "404", 20: "void"})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "10", "--burst-interval-ms", "200")
    argv = command(rows, sandbox.url, "--workers", "3")

    first = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=120)
    delivered = Counter(d["invoiceId"] for d in sandbox.outbox())
    with SendLedger(default_ledger()) as ledger:
        records = ledger.records()
    rerun = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=120)

    assert first.returncode == 0, first.stderr  # the unknown and the void invoice are refused, listed
    assert DEFAULT_TOKEN not in first.stdout + first.stderr
    assert delivered == dict.fromkeys(world.deliverable, 1)
    assert len(records) == 90
    assert Counter(record.state for record in records) == {SendState.SENT: 88, SendState.REFUSED: 2}
    assert all(record.attempts == 1 for record in records)
    assert "Refused (sending again would be refused again) (2):" in first.stdout
    assert rerun.returncode == 0, rerun.stderr
    assert "by an earlier run" in rerun.stdout
    assert Counter(d["invoiceId"] for d in sandbox.outbox()) == delivered


@pytest.mark.slow
def test_workers_die_with_a_killed_parent(tmp_path: Path, sandbox_process: Any) -> None:
    world = build(200, 4, {})
    rows, invoices, _ = world.write(tmp_path)
    # 4 locations x 5 per 500 ms: the run would last ~5 s.
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "5", "--burst-interval-ms", "500")
    argv = command(rows, sandbox.url, "--workers", "2")
    process = subprocess.Popen(argv, env=command_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while len(sandbox.outbox()) < 20 and process.poll() is None:
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    time.sleep(0.5)  # an answer already on its way may still be recorded by the sandbox
    after_kill = len(sandbox.outbox())
    time.sleep(1.5)  # a surviving worker would send ~30 more in this time

    assert len(sandbox.outbox()) == after_kill < 200

    finish = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=120)

    assert finish.returncode == 0, finish.stdout + finish.stderr
    assert Counter(d["invoiceId"] for d in sandbox.outbox()) == dict.fromkeys(world.deliverable, 1)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the worker processes in /proc (Linux)")
def test_a_killed_worker_is_reported_and_a_rerun_finishes_its_rows(tmp_path: Path, sandbox_process: Any) -> None:
    world = build(120, 4, {})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices), "--burst-limit", "5", "--burst-interval-ms", "500")
    argv = command(rows, sandbox.url, "--workers", "2")
    process = subprocess.Popen(argv, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while len(sandbox.outbox()) < 10 and process.poll() is None:
        time.sleep(0.02)
    workers = _children(process.pid)
    os.kill(workers[0], signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    rerun = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=120)

    assert len(workers) == 2
    assert process.returncode != 0
    assert "1 worker process(es) ended unexpectedly" in err
    assert "not started" in out
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert Counter(d["invoiceId"] for d in sandbox.outbox()) == dict.fromkeys(world.deliverable, 1)


class CountingApi(ThreadingHTTPServer):
    """An API on loopback that answers every send and read after a pause, counting the requests in
    flight at once (the peak) across every process that calls it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Counted)
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.sends = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Counted(BaseHTTPRequestHandler):
    server: CountingApi

    def _answer(self, body: dict[str, Any]) -> None:
        api = self.server
        with api.lock:
            api.in_flight += 1
            api.peak = max(api.peak, api.in_flight)
        time.sleep(0.05)
        with api.lock:
            api.in_flight -= 1
        data = json.dumps({**body, "_id": self.path.split("/")[2]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer({**READ_BODY, "status": "draft"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.sends += 1
        self._answer(SEND_BODY)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def counting_api() -> Iterator[CountingApi]:
    api = CountingApi()
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    yield api
    api.shutdown()
    api.server_close()


@pytest.mark.slow
@pytest.mark.skipif(not WORKERS_SUPPORTED, reason="worker processes need POSIX")
@pytest.mark.parametrize(("workers", "concurrency"), [(2, 1), (3, 2)])
def test_concurrency_is_the_total_in_flight_of_all_workers(
    tmp_path: Path, counting_api: CountingApi, workers: int, concurrency: int
) -> None:
    world = build(24, 6, {})
    rows, _, _ = world.write(tmp_path)
    argv = command(rows, counting_api.url, "--workers", str(workers), "--concurrency", str(concurrency))

    run = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stderr
    assert counting_api.sends == 24
    assert 1 <= counting_api.peak <= concurrency
