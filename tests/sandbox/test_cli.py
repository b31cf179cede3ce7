"""`python -m scripts.sandbox`: argument checks, clear errors, and a real run stopped with Ctrl+C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, TOKEN_ENV
from scripts.sandbox.__main__ import main, parse_args
from scripts.sandbox.server import bind_loopback
from tests.sandbox.conftest import auth, send_body

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_upstream_like() -> None:
    args = parse_args([])

    assert (args.host, args.port, args.invoices) == ("127.0.0.1", 8765, None)
    assert (args.burst_limit, args.burst_interval_ms, args.daily_limit) == (100, 10_000, 200_000)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "argument --port: 70000 is not between 0 and 65535"),
        (["--port", "http"], "argument --port: 'http' is not a port number"),
        (["--host", "0.0.0.0"], "refusing to listen on '0.0.0.0': the sandbox serves loopback only"),
        (["--host", "example.com"], "refusing to listen on 'example.com'"),
        (["--burst-limit", "0"], "argument --burst-limit: 0 must be at least 1"),
        (["--daily-limit", "lots"], "argument --daily-limit: 'lots' is not a whole number"),
        (["--burst-interval-ms", "-5"], "argument --burst-interval-ms: -5 must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_port_in_use_is_reported_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    taken = bind_loopback()
    try:
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    finally:
        taken.close()

    err = capsys.readouterr().err
    assert err.startswith(f"sandbox: error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in err


def test_unreadable_invoices_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--invoices", str(tmp_path / "missing.json")]) == 1

    assert "sandbox: error: cannot read invoices file" in capsys.readouterr().err


@pytest.fixture
def running_sandbox() -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, TOKEN_ENV: "token-from-env", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.sandbox", "--port", "0", "--burst-limit", "7"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        yield process, first_line
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_serves_until_interrupted_and_prints_url_and_token(running_sandbox: tuple[subprocess.Popen[str], str]) -> None:
    process, first_line = running_sandbox
    assert first_line.startswith("Leadway sandbox on http://127.0.0.1:"), first_line
    url = first_line.split()[3]
    assert process.stdout is not None
    banner = "".join(process.stdout.readline() for _ in range(6))
    assert "agency token:   token-from-env" in banner
    assert "sandbox-location-token" in banner

    with httpx.Client(base_url=url) as client:
        refused = client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth(DEFAULT_TOKEN))
        sent = client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth("token-from-env"))
    assert refused.status_code == 401  # the environment's token replaced the default one
    assert sent.status_code == 200
    assert sent.headers["X-RateLimit-Max"] == "7"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
