"""`cli/webhooks.py`: `leadway-invoices webhooks serve`: refuses bad keys and ledgers before it
listens; served, it records what it answers 200 to, and a SIGKILL mid-stream loses none of those."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from leadway_invoices_client import SendLedger

from tests.webhooks.signing import INVOICE, body, ed25519_private, ed25519_signature, pem

from .test_command import run


def test_serve_refuses_a_key_of_the_wrong_kind_or_an_unreadable_one(tmp_path: Path) -> None:
    from tests.webhooks.signing import rsa_private

    wrong = tmp_path / "rsa.pem"
    wrong.write_text(pem(rsa_private()))
    code, _, err = run(["webhooks", "serve", "--ledger", str(tmp_path / "l.db"), "--ed25519-key", str(wrong)])
    assert code == 2
    assert "ed25519_key is an RSA public key, not an Ed25519 public key" in err
    code, _, err = run(["webhooks", "serve", "--ledger", str(tmp_path / "l.db"), "--ed25519-key", str(tmp_path / "x")])
    assert code == 2
    assert "cannot read the Ed25519 key" in err
    assert not (tmp_path / "l.db").exists()


def test_version_names_the_package_version() -> None:
    from leadway_invoices_client import __version__

    with pytest.raises(SystemExit) as exited:
        run(["--version"])
    assert exited.value.code == 0
    assert __version__


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    key = tmp_path / "ed25519.pem"
    key.write_text(pem(ed25519_private()))
    command = [sys.executable, "-m", "leadway_invoices_client.cli", "webhooks", "serve"]
    command += ["--ledger", str(tmp_path / "l.db"), "--port", "0", "--ed25519-key", str(key)]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    assert server.stderr is not None
    line = server.stderr.readline()
    assert line.startswith("Receiving webhooks on http://127.0.0.1:"), line
    return server, line.split(" on ", 1)[1].split("/ ", 1)[0]


@pytest.mark.slow
def test_a_receiver_killed_mid_stream_loses_no_event_it_answered_200(tmp_path: Path) -> None:
    server, url = _serve(tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()

    def deliver(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            for number in range(100_000):
                if stop.is_set():
                    return
                webhook_id = f"wh-{worker}-{number}"
                data = body(webhook_id, at=dt.datetime.now(dt.UTC))
                try:
                    answer = client.post("/", content=data, headers={"x-ghl-signature": ed25519_signature(data)})
                except httpx.TransportError:
                    return  # killed: this one was never answered
                if answer.status_code == 200:
                    acknowledged.append(webhook_id)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # mid-stream: requests in flight on every connection
    finally:
        server.kill()
        server.wait()
        stop.set()
        for thread in threads:
            thread.join()
    with SendLedger(tmp_path / "l.db") as ledger:
        recorded = {event.webhook_id for event in ledger.events(INVOICE)}
    assert len(acknowledged) >= 300
    assert set(acknowledged) <= recorded
