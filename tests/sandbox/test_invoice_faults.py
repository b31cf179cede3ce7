"""Faults per invoice, for clients that send no X-Sandbox-Fault header: config, file, CLI and admin endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    FAULT_HEADER,
    LOCATION_TOKEN,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    ConnectionDropped,
    Sandbox,
    SandboxConfig,
    SandboxError,
    create_app,
    serve_in_thread,
)
from scripts.sandbox.__main__ import main, parse_args
from scripts.sandbox.config import SPEC_PATH
from scripts.sandbox.faults import Fault, FaultKind
from scripts.sandbox.invoice_faults import load_fault_file
from scripts.sandbox.server import make_server
from tests.sandbox.conftest import auth, send_body

SEND = f"/invoices/{DRAFT_INVOICE_ID}/send"
SECOND_SEND = f"/invoices/{SECOND_DRAFT_INVOICE_ID}/send"
ADMIN = f"/_sandbox/faults/{DRAFT_INVOICE_ID}"
ROOT = Path(__file__).resolve().parents[2]
AGENCY = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def faulty_app(**faults: str) -> Starlette:
    return create_app(SandboxConfig(agency_token=DEFAULT_TOKEN, faults=faults))


@pytest.fixture
async def faulty() -> AsyncIterator[httpx.AsyncClient]:
    """In-process client of a sandbox whose first draft has `html-500` from the config."""
    app = faulty_app(**{DRAFT_INVOICE_ID: "html-500"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        yield client


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faults.json"
    path.write_text(text, encoding="utf-8")
    return path


# -- from the config --------------------------------------------------------------------------


async def test_a_configured_fault_applies_to_every_send_of_its_invoice(faulty: httpx.AsyncClient) -> None:
    for _ in range(3):
        response = await faulty.post(SEND, json=send_body(), headers=auth())
        assert response.status_code == 500
        assert "<h1>500 Internal Server Error</h1>" in response.text

    assert (await faulty.post(SECOND_SEND, json=send_body(), headers=auth())).status_code == 200


async def test_the_header_wins_over_the_invoice_fault(faulty: httpx.AsyncClient) -> None:
    response = await faulty.post(SEND, json=send_body(), headers=auth(**{FAULT_HEADER: "503"}))

    assert response.status_code == 503
    assert response.json()["message"] == "Service Unavailable"


async def test_authentication_still_comes_first(faulty: httpx.AsyncClient) -> None:
    assert (await faulty.post(SEND, json=send_body(), headers={"Version": "2021-07-28"})).status_code == 401


async def test_drop_after_send_per_invoice_sends_then_drops() -> None:
    app = faulty_app(**{DRAFT_INVOICE_ID: "drop-after-send"})
    sandbox: Sandbox = app.state.sandbox
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        for _ in range(2):
            with pytest.raises(ConnectionDropped):
                await client.post(SEND, json=send_body(action="email"), headers=auth())

    assert [d.channel for d in sandbox.state.deliveries_for(DRAFT_INVOICE_ID)] == ["email", "email"]


def test_per_invoice_faults_are_real_over_a_socket() -> None:
    app = faulty_app(**{DRAFT_INVOICE_ID: "drop-after-send", SECOND_DRAFT_INVOICE_ID: "rate-limit"})
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=5) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(SEND, json=send_body(), headers=auth())
        limited = client.post(SECOND_SEND, json=send_body(), headers=auth())

    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


def test_a_fault_kind_added_to_the_header_parser_works_per_invoice() -> None:
    # delayed-send came after the per-invoice mechanism and needed no change in it.
    app = faulty_app(**{DRAFT_INVOICE_ID: "delayed-send:0.2"})
    sandbox: Sandbox = app.state.sandbox
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=5) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(SEND, json=send_body(), headers=auth())
        deadline = time.monotonic() + 10
        while not sandbox.state.deliveries_for(DRAFT_INVOICE_ID) and time.monotonic() < deadline:
            time.sleep(0.05)

    assert [d.channel for d in sandbox.state.deliveries_for(DRAFT_INVOICE_ID)] == ["email", "sms"]


def test_the_invoice_fault_is_parsed_by_the_header_parser() -> None:
    sandbox: Sandbox = faulty_app(**{DRAFT_INVOICE_ID: " SLOW:0.25 "}).state.sandbox

    assert sandbox.faults.fault_for(DRAFT_INVOICE_ID) == Fault(FaultKind.SLOW, 0.25)
    assert sandbox.faults.fault_for(SECOND_DRAFT_INVOICE_ID) is None
    assert sandbox.faults.as_dict() == {DRAFT_INVOICE_ID: " SLOW:0.25 "}


def test_the_config_keeps_its_own_copy() -> None:
    faults = {DRAFT_INVOICE_ID: "html-500"}
    config = SandboxConfig(faults=faults)
    faults[DRAFT_INVOICE_ID] = "nonsense"

    assert config.faults == {DRAFT_INVOICE_ID: "html-500"}


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({DRAFT_INVOICE_ID: "explode"}, f'faults: invoice "{DRAFT_INVOICE_ID}": Unknown X-Sandbox-Fault "explode"'),
        ({DRAFT_INVOICE_ID: "slow:99"}, f'faults: invoice "{DRAFT_INVOICE_ID}": X-Sandbox-Fault "slow:99": slow needs'),
        ({DRAFT_INVOICE_ID: 3}, "faults: expected invoice id -> fault string"),
    ],
)
def test_bad_faults_in_the_config_are_refused_at_once(faults: dict[str, object], message: str) -> None:
    with pytest.raises(SandboxError) as raised:
        SandboxConfig(faults=faults)  # type: ignore[arg-type]

    assert str(raised.value).startswith(message)


def test_a_fault_for_an_unknown_invoice_is_refused() -> None:
    with pytest.raises(SandboxError, match=r'faults: invoice "ffffffffffffffffffffffff" is not a sandbox invoice'):
        faulty_app(ffffffffffffffffffffffff="html-500")


# -- from a file --------------------------------------------------------------------------------


def test_a_faults_file_assigns_faults(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({DRAFT_INVOICE_ID: "503", SECOND_DRAFT_INVOICE_ID: "slow:1"}))

    sandbox: Sandbox = create_app(SandboxConfig(faults_file=path)).state.sandbox

    assert sandbox.faults.as_dict() == {DRAFT_INVOICE_ID: "503", SECOND_DRAFT_INVOICE_ID: "slow:1"}
    assert sandbox.faults.fault_for(SECOND_DRAFT_INVOICE_ID) == Fault(FaultKind.SLOW, 1.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": "503",\n "b": }', "is not valid JSON: Expecting value: line 2 column 7"),
        ('["503"]', 'expected a JSON object {"<invoiceId>": "<fault>", ...}'),
        (f'{{"{DRAFT_INVOICE_ID}": 503}}', f'invoice "{DRAFT_INVOICE_ID}": the fault must be a string, got 503'),
        (
            f'{{"{DRAFT_INVOICE_ID}": "503", "{DRAFT_INVOICE_ID}": "html-500"}}',
            f'invoice "{DRAFT_INVOICE_ID}" is listed twice',
        ),
        (
            f'{{"{DRAFT_INVOICE_ID}": "explode"}}',
            f'faults: invoice "{DRAFT_INVOICE_ID}": Unknown X-Sandbox-Fault "explode"',
        ),
        ('{"nope": "503"}', 'faults: invoice "nope" is not a sandbox invoice'),
    ],
)
def test_a_bad_faults_file_is_refused_with_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(SandboxError) as raised:
        create_app(SandboxConfig(faults_file=path))

    assert message in str(raised.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"cannot read faults file .*missing\.json"):
        load_fault_file(tmp_path / "missing.json")
    with pytest.raises(SandboxError, match=r'faults file .*faults.json: invoice "x" is listed twice'):
        load_fault_file(write(tmp_path, '{"x": "503", "x": "503"}'))


def test_an_invoice_in_both_the_config_and_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({DRAFT_INVOICE_ID: "503"}))

    with pytest.raises(SandboxError, match=f'invoice "{DRAFT_INVOICE_ID}" already has a fault in the config'):
        create_app(SandboxConfig(faults={DRAFT_INVOICE_ID: "html-500"}, faults_file=path))


def test_a_sandbox_started_with_faults_applies_them(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({DRAFT_INVOICE_ID: "html-500"}))
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.sandbox", "--port", "0", "--faults", str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[3]
        banner = "".join(process.stdout.readline() for _ in range(7))
        with httpx.Client(base_url=url, timeout=10) as client:
            faulted = client.post(SEND, json=send_body(), headers=auth())
            sent = client.post(SECOND_SEND, json=send_body(), headers=auth())
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    assert "per invoice: --faults FILE" in banner
    assert "(1 assigned)" in banner
    assert (faulted.status_code, sent.status_code) == (500, 200)
    assert faulted.headers["content-type"].startswith("text/html")


def test_the_command_line_takes_a_faults_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '{"nope": "503"}')

    assert parse_args(["--faults", str(path)]).faults == path
    assert main(["--faults", str(path), "--port", "0"]) == 1
    assert capsys.readouterr().err == 'sandbox: error: faults: invoice "nope" is not a sandbox invoice\n'


# -- the admin endpoint -------------------------------------------------------------------------


async def test_admin_assigns_lists_and_clears_a_fault(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    assigned = await client.put(ADMIN, content="html-500", headers=AGENCY)
    assert (assigned.status_code, assigned.json()) == (200, {"invoiceId": DRAFT_INVOICE_ID, "fault": "html-500"})
    assert (await client.get("/_sandbox/faults", headers=AGENCY)).json() == {DRAFT_INVOICE_ID: "html-500"}
    assert (await client.post(SEND, json=send_body(), headers=auth())).status_code == 500

    cleared = await client.delete(ADMIN, headers=AGENCY)
    assert (cleared.status_code, cleared.json()) == (200, {"invoiceId": DRAFT_INVOICE_ID, "fault": None})
    assert (await client.get("/_sandbox/faults", headers=AGENCY)).json() == {}
    assert (await client.post(SEND, json=send_body(), headers=auth())).status_code == 200
    assert len(sandbox.outbox) == 2


async def test_admin_replaces_a_fault(client: httpx.AsyncClient) -> None:
    await client.put(ADMIN, content="html-500", headers=AGENCY)
    await client.put(ADMIN, content="503", headers=AGENCY)

    assert (await client.post(SEND, json=send_body(), headers=auth())).status_code == 503


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": f"Basic {DEFAULT_TOKEN}"}, 401),
        ({"Authorization": f"Bearer {LOCATION_TOKEN}"}, 403),
    ],
)
async def test_admin_needs_the_agency_token(client: httpx.AsyncClient, headers: dict[str, str], status: int) -> None:
    put = await client.put(ADMIN, content="html-500", headers=headers)
    listed = await client.get("/_sandbox/faults", headers=headers)
    deleted = await client.delete(ADMIN, headers=headers)

    assert [put.status_code, listed.status_code, deleted.status_code] == [status] * 3
    assert put.json()["statusCode"] == status
    assert (await client.post(SEND, json=send_body(), headers=auth())).status_code == 200


async def test_admin_refuses_a_bad_fault_and_an_unknown_invoice(client: httpx.AsyncClient) -> None:
    bad = await client.put(ADMIN, content="explode", headers=AGENCY)
    assert bad.status_code == 400
    assert f'invoice "{DRAFT_INVOICE_ID}": Unknown X-Sandbox-Fault "explode"' in bad.json()["message"]
    not_utf8 = await client.put(ADMIN, content=b"\xff", headers=AGENCY)
    assert not_utf8.status_code == 400

    unknown = await client.put("/_sandbox/faults/ffffffffffffffffffffffff", content="503", headers=AGENCY)
    assert (unknown.status_code, unknown.json()["message"]) == (404, 'Invoice "ffffffffffffffffffffffff" not found')
    assert (await client.get("/_sandbox/faults", headers=AGENCY)).json() == {}


async def test_reset_restores_the_startup_faults() -> None:
    app = faulty_app(**{DRAFT_INVOICE_ID: "html-500"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        await client.delete(ADMIN, headers=AGENCY)
        await client.put(f"/_sandbox/faults/{SECOND_DRAFT_INVOICE_ID}", content="503", headers=AGENCY)

        await client.post("/_sandbox/reset")

        assert (await client.get("/_sandbox/faults", headers=AGENCY)).json() == {DRAFT_INVOICE_ID: "html-500"}


def test_the_admin_endpoints_are_not_in_the_public_spec() -> None:
    paths = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))["paths"]

    assert not [path for path in paths if path.startswith("/_sandbox")]


def test_the_access_log_is_off_unless_asked_for() -> None:
    app = faulty_app()

    assert make_server(app).config.access_log is False
    assert make_server(app, access_log=True).config.access_log is True
    assert parse_args([]).access_log is False
    assert parse_args(["--access-log"]).access_log is True


async def test_an_assigned_omit_also_applies_to_the_invoices_reads() -> None:
    # The other assigned faults fail sends only, so that reconciliation's reads stay reliable.
    app = faulty_app(**{DRAFT_INVOICE_ID: "omit:X-RateLimit-Max", SECOND_DRAFT_INVOICE_ID: "503"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        query = {"altId": SEED_LOCATIONS[0], "altType": "location"}
        omitted = await client.get(f"/invoices/{DRAFT_INVOICE_ID}", params=query, headers=auth())
        reliable = await client.get(f"/invoices/{SECOND_DRAFT_INVOICE_ID}", params=query, headers=auth())

    assert omitted.status_code == 200
    assert "X-RateLimit-Max" not in omitted.headers
    assert reliable.status_code == 200
