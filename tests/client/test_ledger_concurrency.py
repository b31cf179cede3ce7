"""Many senders, one ledger file: threads, asyncio tasks and processes sending the same keys at
once, and workers killed with SIGKILL between intent and outcome. The sandbox's outbox proves that
every invoice was delivered exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from leadway_invoices_client import Outcome, SendLedger, SendState
from starlette.applications import Starlette

from scripts.sandbox import Sandbox, serve_in_thread

from . import ledger_support as support
from . import ledger_workers as workers
from .ledger_support import deliveries
from .ledger_workers import client, invoice_id, open_ledger, send_all, sms_body

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork-free spawn semantics of POSIX")

KEYS = [f"key-{i}" for i in range(50)]
SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Starlette, str]]:
    app = support.create_sandbox(tmp_path_factory.mktemp("sandbox"), len(KEYS))
    with serve_in_thread(app) as base_url:
        yield app, base_url


@pytest.fixture
def sandbox(served: tuple[Starlette, str]) -> tuple[Starlette, str]:
    sandbox: Sandbox = served[0].state.sandbox
    sandbox.reset()
    return served


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sends.db"


def shuffled(keys: list[str], seed: int) -> list[str]:
    keys = list(keys)
    random.Random(seed).shuffle(keys)
    return keys


def exactly_once(app: Starlette, keys: list[str] = KEYS) -> None:
    assert deliveries(app) == {invoice_id(int(k.split("-")[1])): 1 for k in keys}


def all_sent(path: Path, base_url: str, keys: list[str] = KEYS) -> None:
    with open_ledger(path, base_url) as ledger:
        records = ledger.records()
    assert sorted(r.key for r in records) == sorted(keys)
    assert {r.state for r in records} == {SendState.SENT}


def test_threads_sharing_one_ledger_send_each_key_once(sandbox: tuple[Starlette, str], path: Path) -> None:
    app, base_url = sandbox
    results: list[tuple[str, str, bool]] = []
    with open_ledger(path, base_url) as ledger, client(base_url) as http:

        def work(seed: int) -> None:
            for key in shuffled(KEYS, seed):
                record = ledger.send(key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body())
                results.append((record.key, record.state.value, record.skipped))

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    sent = Counter(key for key, state, skipped in results if not skipped)
    print(f"\n8 threads x {len(KEYS)} keys: {dict(Counter((s, k) for _, s, k in results))}")
    assert len(results) == 8 * len(KEYS)
    assert sent == dict.fromkeys(KEYS, 1)
    assert {state for _, state, _ in results} <= {"sent", "pending"}  # pending: in progress elsewhere
    exactly_once(app)
    all_sent(path, base_url)


def test_threads_with_a_ledger_each_on_one_file_send_each_key_once(sandbox: tuple[Starlette, str], path: Path) -> None:
    app, base_url = sandbox
    results: list[list[tuple[str, str, bool]]] = []
    threads = [
        threading.Thread(
            target=lambda s=seed: results.append(send_all(str(path), base_url, shuffled(KEYS, s), None, 0))
        )
        for seed in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 6
    assert Counter(key for run in results for key, _, skipped in run if not skipped) == dict.fromkeys(KEYS, 1)
    exactly_once(app)
    all_sent(path, base_url)


def test_asyncio_tasks_send_each_key_once(sandbox: tuple[Starlette, str], path: Path) -> None:
    app, base_url = sandbox

    async def main() -> list[tuple[str, bool]]:
        async with client(base_url) as http:
            with open_ledger(path, base_url) as ledger:

                async def work(seed: int) -> list[tuple[str, bool]]:
                    done = []
                    for key in shuffled(KEYS, seed):
                        record = await ledger.asend(
                            key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body()
                        )
                        done.append((record.key, record.skipped))
                    return done

                runs = await asyncio.gather(*(work(seed) for seed in range(8)))
        return [item for run in runs for item in run]

    results = asyncio.run(main())

    assert Counter(key for key, skipped in results if not skipped) == dict.fromkeys(KEYS, 1)
    exactly_once(app)


def test_processes_send_each_key_once(sandbox: tuple[Starlette, str], path: Path) -> None:
    app, base_url = sandbox
    with SPAWN.Pool(8) as pool:
        runs = pool.starmap(send_all, [(str(path), base_url, shuffled(KEYS, seed), None, 0.0) for seed in range(8)])

    results = [item for run in runs for item in run]
    states = Counter((state, skipped) for _, state, skipped in results)
    print(f"\n8 processes x {len(KEYS)} keys: {dict(states)}; deliveries: {sum(deliveries(app).values())}")
    assert len(results) == 8 * len(KEYS)
    assert Counter(key for key, _, skipped in results if not skipped) == dict.fromkeys(KEYS, 1)
    exactly_once(app)
    all_sent(path, base_url)


def wait_for_state(path: Path, key: str, state: SendState, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with SendLedger(path) as ledger:
        while (record := ledger.get(key)) is None or record.state is not state:
            assert time.monotonic() < deadline, f"{key} never became {state}"
            time.sleep(0.02)


def test_a_worker_killed_with_its_request_in_flight_is_skipped_while_alive_then_reconciled(
    sandbox: tuple[Starlette, str], path: Path
) -> None:
    app, base_url = sandbox
    worker = SPAWN.Process(target=send_all, args=(str(path), base_url, ["key-20"], "slow:2", 3.0))
    worker.start()
    wait_for_state(path, "key-20", SendState.PENDING)
    with open_ledger(path, base_url, grace_period=3.0) as ledger, client(base_url) as http:
        meanwhile = ledger.send("key-20", client=http, invoice_id=invoice_id(20), body=sms_body())
        time.sleep(0.5)  # let the worker's request reach the sandbox
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        reconciled = ledger.send("key-20", client=http, invoice_id=invoice_id(20), body=sms_body())
        delivered = deliveries(app).get(invoice_id(20), 0)
        final = ledger.send("key-20", client=http, invoice_id=invoice_id(20), body=sms_body())

    assert (meanwhile.state, meanwhile.skipped) == (SendState.PENDING, True)
    assert meanwhile.reason == f"in progress elsewhere (pid {worker.pid})"
    assert worker.exitcode == -signal.SIGKILL
    assert reconciled.skipped  # reconciled, not resent
    # What reconciliation recorded is what happened: the slow request landed after the kill.
    assert (reconciled.state, delivered) in {(SendState.SENT, 1), (SendState.NOT_SENT, 0)}
    assert reconciled.reason.startswith("left pending by an interrupted send; reconciled")
    assert final.state is SendState.SENT
    exactly_once(app, ["key-20"])


def test_a_worker_killed_before_its_request_left_is_reconciled_not_sent_then_sent(
    sandbox: tuple[Starlette, str], path: Path
) -> None:
    app, base_url = sandbox
    worker = SPAWN.Process(target=workers.park_before_io, args=(str(path), base_url, "key-30"))
    worker.start()
    wait_for_state(path, "key-30", SendState.PENDING)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    with open_ledger(path, base_url, grace_period=0.2) as ledger, client(base_url) as http:
        assert deliveries(app) == {}
        # One call: reconciled (still a draft: not sent), then sent.
        sent = ledger.send("key-30", client=http, invoice_id=invoice_id(30), body=sms_body())
        again = ledger.send("key-30", client=http, invoice_id=invoice_id(30), body=sms_body())

    assert (sent.state, sent.attempts, sent.skipped) == (SendState.SENT, 2, False)
    assert sent.evidence is not None
    assert (sent.evidence.outcome, sent.evidence.reason) == (Outcome.NOT_SENT, "status draft")
    assert (again.state, again.skipped) == (SendState.SENT, True)
    exactly_once(app, ["key-30"])


def test_workers_killed_again_and_again_then_finished_deliver_each_invoice_once(
    sandbox: tuple[Starlette, str], path: Path
) -> None:
    app, base_url = sandbox
    rng = random.Random(12)
    kills = 0
    for round_ in range(3):
        workers = [
            SPAWN.Process(
                target=send_all, args=(str(path), base_url, shuffled(KEYS, 10 * round_ + n), "slow:0.1", 1.5, True)
            )
            for n in range(3)
        ]
        for worker in workers:
            worker.start()
        # Kill once the round has recorded something new, at a random moment after that.
        with SendLedger(path) as ledger:
            before = len(ledger.records())
            deadline = time.monotonic() + 60
            while len(ledger.records()) <= before and time.monotonic() < deadline:
                time.sleep(0.02)
        time.sleep(rng.uniform(0.1, 0.8))
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGKILL)
                kills += 1
            worker.join()
    with SendLedger(path) as ledger:
        left = Counter(r.state.value for r in ledger.records())
    # Finish: the first run reconciles what the kills left; a reconciled NOT_SENT is sent by the next.
    send_all(str(path), base_url, KEYS, None, 1.5, True)
    send_all(str(path), base_url, KEYS, None, 1.5, True)

    with SendLedger(path) as ledger:
        # How each key ended: sent at once, or reconciled (SENT, or NOT_SENT and then sent).
        ended = Counter(
            r.reason.split(": ")[0].removeprefix("left pending by an interrupted send; ") for r in ledger.records()
        )
    delivered = sum(deliveries(app).values())
    print(
        f"\nkilled {kills} workers in 3 rounds; left behind: {dict(left)}; ended: {dict(ended)}; delivered: {delivered}"
    )
    assert kills >= 3, left
    exactly_once(app)
    all_sent(path, base_url)


def test_threads_and_asyncio_tasks_sharing_one_ledger_send_each_key_once(
    sandbox: tuple[Starlette, str], path: Path
) -> None:
    app, base_url = sandbox
    sent: list[str] = []
    with open_ledger(path, base_url) as ledger:

        def work(seed: int) -> None:
            with client(base_url) as http:
                for key in shuffled(KEYS, seed):
                    record = ledger.send(key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body())
                    sent.extend([key] if not record.skipped else [])

        async def tasks() -> None:
            async with client(base_url) as http:

                async def one(seed: int) -> None:
                    for key in shuffled(KEYS, seed):
                        record = await ledger.asend(
                            key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body()
                        )
                        sent.extend([key] if not record.skipped else [])

                await asyncio.gather(*(one(seed) for seed in range(100, 104)))

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        asyncio.run(tasks())
        for thread in threads:
            thread.join()

    assert Counter(sent) == dict.fromkeys(KEYS, 1)
    exactly_once(app)
