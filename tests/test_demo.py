"""`python -m scripts.demo`: the bulk demo and the one-invoice sandbox run end to end, and production mode
without ever leaving loopback."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from leadway_invoices_client import cli
from leadway_invoices_client._runtime.constants import API_TOKEN_ENV, PRODUCTION_URL

from scripts.demo import EXAMPLE_FAULTS, EXAMPLE_INVOICES, EXAMPLE_ROWS, Summary, main, render
from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, LOCATION_TOKEN, TOKEN_ENV, VOID_INVOICE_ID
from scripts.sandbox.state import seed_invoices
from tests.bulk.processes import summary_block

REAL_TOKEN = "pit-0123456789abcdef"
IDS = ["--invoice-id", DRAFT_INVOICE_ID, "--location-id", "loc-1", "--user-id", "user-1"]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection to a non-loopback address: these tests must never reach the internet."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def is_loopback(host: object) -> bool:
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def connect(self: socket.socket, address: Any) -> None:
        if not is_loopback(address[0] if isinstance(address, tuple) else address):
            raise AssertionError(f"test tried to connect to {address}")
        real_connect(self, address)

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise AssertionError(f"test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def run(argv: list[str], **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out, **kwargs)
    return code, out.getvalue()


def test_the_default_demo_bulk_sends_the_example_file_with_progress_and_a_summary() -> None:
    out, err = io.StringIO(), io.StringIO()

    code = main([], out=out, err=err)

    output = out.getvalue()
    rows = list(csv.DictReader(EXAMPLE_ROWS.open(encoding="utf-8")))
    refused = {
        "invoice-1004/2026-11": "NotFoundError 404",
        "invoice-1010/2026-11": "reads void, not draft",
        "invoice-1017/2026-11": "reads paid, not draft",
    }
    assert code == 0
    assert "leadway-invoices send examples/invoices.csv --base-url http://127.0.0.1:" in output
    assert "Bulk send of examples/invoices.csv" in output
    assert f"  {'sent':<16}{len(rows) - len(refused):>7}  1 confirmed by reading the invoice\n" in output
    assert f"  {'refused':<16}{len(refused):>7}  each with its reason below" in output
    assert f"  {'not sent':<16}{0:>7}\n" in output
    for key, reason in refused.items():
        assert reason in summary_block(output, key)
    assert f"The command exited with 0. The sandbox's outbox holds {len(rows) - len(refused)} messages" in output
    assert f"{len(rows)}/{len(rows)}" in err.getvalue()  # the progress bar's last state


def test_the_example_file_is_valid_and_every_row_names_a_served_invoice_but_one() -> None:
    rows = list(csv.DictReader(EXAMPLE_ROWS.open(encoding="utf-8")))
    served = {invoice["_id"] for invoice in json.loads(EXAMPLE_INVOICES.read_text(encoding="utf-8"))["invoices"]}
    faults = json.loads(EXAMPLE_FAULTS.read_text(encoding="utf-8"))

    assert cli.main(["send", str(EXAMPLE_ROWS), "--dry-run"], environ={}, stdout=io.StringIO()) == 0
    assert [row["invoice_id"] for row in rows if row["invoice_id"] not in served] == ["ffff00010000000000000004"]
    assert faults == {"65c000010000000000000007": "drop-after-send"}


def test_single_invoice_options_need_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--fault", "503"]) == (2, "")
    assert "demo: error: --fault needs --one (or --production)" in capsys.readouterr().err


def test_sandbox_demo_sends_one_invoice_and_summarises_it() -> None:
    code, output = run(["--one"])

    assert code == 0
    lines = output.splitlines()
    assert lines[0].startswith("Leadway send-invoice demo: local sandbox at http://127.0.0.1:")
    assert lines[1:] == [
        f"  Invoice     #19  (id {DRAFT_INVOICE_ID}, location {DRAFT_INVOICE_ID})",
        "  Status      draft -> sent  (liveMode false)",
        "  Delivered   email to alex@example.com",
        "              sms   to +1-214-559-6993",
        "  Rate limit  99 of 100 left in this 10 s window; 199,999 of 200,000 left today",
    ]


def test_sandbox_demo_live_and_email_only() -> None:
    code, output = run(["--one", "--live", "--action", "email"])

    assert code == 0
    assert "(liveMode true)" in output
    assert "sms" not in output


def test_sandbox_demo_send_manually_delivers_nothing() -> None:
    code, output = run(["--one", "--action", "send_manually"])

    assert code == 0
    assert "  Delivered   nothing" in output


def test_sandbox_demo_reports_a_refusal_and_exits_1() -> None:
    code, output = run(["--one", "--invoice-id", VOID_INVOICE_ID])

    assert code == 1
    assert "Status      void -> void" in output
    assert "Problem     HTTP 400: Invoice is void and cannot be sent" in output


def test_sandbox_demo_shows_deliveries_even_when_the_connection_drops() -> None:
    code, output = run(["--one", "--fault", "drop-after-send"])

    assert code == 1
    assert "Status      draft -> sent" in output
    assert "email to alex@example.com" in output
    assert "Problem     OutcomeUnknownError:" in output


def test_sandbox_demo_uses_the_environment_sandbox_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "my-own-sandbox-token")

    assert run(["--one"])[0] == 0


def test_unknown_sandbox_invoice_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(["--one", "--invoice-id", "ffffffffffffffffffffffff"])

    assert code == 2
    assert output == ""
    assert "demo: error: the sandbox has no invoice ffffffffffffffffffffffff" in capsys.readouterr().err


def test_bad_action_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--one", "--action", "fax"])

    assert exited.value.code == 2
    assert "invalid choice: 'fax'" in capsys.readouterr().err


def recording_transport(
    calls: list[httpx.Request], answer: Callable[[httpx.Request], httpx.Response] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        # A snapshot: the client takes the credential off its request once the request is answered.
        headers = request.headers.copy()
        calls.append(httpx.Request(request.method, request.url, headers=headers, content=request.content))
        if answer is None:
            raise AssertionError("no request may be sent")
        return answer(request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (IDS, {}, f"no API token: set ${API_TOKEN_ENV}"),
        (IDS, {API_TOKEN_ENV: "  "}, f"no API token: set ${API_TOKEN_ENV}"),
        (IDS, {API_TOKEN_ENV: DEFAULT_TOKEN}, f"holds a sandbox token; refusing to send it to {PRODUCTION_URL}"),
        (IDS, {API_TOKEN_ENV: LOCATION_TOKEN}, "holds a sandbox token"),
        (IDS, {API_TOKEN_ENV: "custom", TOKEN_ENV: "custom"}, "holds a sandbox token"),
        ([], {API_TOKEN_ENV: REAL_TOKEN}, "needs explicit --invoice-id, --location-id, --user-id"),
        (IDS[:4], {API_TOKEN_ENV: REAL_TOKEN}, "needs explicit --user-id"),
        ([*IDS, "--fault", "503"], {API_TOKEN_ENV: REAL_TOKEN}, "--fault is a sandbox header"),
    ],
)
def test_production_refusals_happen_before_any_request(
    capsys: pytest.CaptureFixture[str], argv: list[str], environ: dict[str, str], message: str
) -> None:
    calls: list[httpx.Request] = []

    code, output = run(["--production", *argv], environ=environ, transport=recording_transport(calls))

    assert code == 2
    assert calls == []
    assert output == ""
    assert message in capsys.readouterr().err


def production_answer(request: httpx.Request) -> httpx.Response:
    invoice = {**seed_invoices()[0], "status": "sent", "liveMode": json.loads(request.content)["liveMode"]}
    headers = {
        "X-RateLimit-Limit-Daily": "200000",
        "X-RateLimit-Daily-Remaining": "150000",
        "X-RateLimit-Interval-Milliseconds": "10000",
        "X-RateLimit-Max": "100",
        "X-RateLimit-Remaining": "42",
    }
    return httpx.Response(200, json={"invoice": invoice, "smsData": {}, "emailData": {}}, headers=headers)


@pytest.mark.parametrize(("flags", "live_mode"), [([], False), (["--live"], True)])
def test_production_sends_test_mode_unless_live_is_explicit(
    capsys: pytest.CaptureFixture[str], flags: list[str], live_mode: bool
) -> None:
    calls: list[httpx.Request] = []
    environ = {API_TOKEN_ENV: REAL_TOKEN}

    code, output = run(
        ["--production", *IDS, *flags], environ=environ, transport=recording_transport(calls, production_answer)
    )

    assert code == 0
    assert len(calls) == 1
    request = calls[0]
    assert str(request.url) == f"{PRODUCTION_URL}/invoices/{DRAFT_INVOICE_ID}/send"
    assert request.headers["Authorization"] == f"Bearer {REAL_TOKEN}"
    assert json.loads(request.content) == {
        "altId": "loc-1",
        "altType": "location",
        "userId": "user-1",
        "action": "sms_and_email",
        "liveMode": live_mode,
    }
    assert f"PRODUCTION at {PRODUCTION_URL}" in output
    assert f"Status      unknown -> sent  (liveMode {str(live_mode).lower()})" in output
    assert "42 of 100 left in this 10 s window; 150,000 of 200,000 left today" in output
    assert REAL_TOKEN not in output + "".join(capsys.readouterr())


def test_production_error_answer_exits_1() -> None:
    def forbidden(request: httpx.Request) -> httpx.Response:
        body = {"statusCode": 403, "message": "The token does not have access to this location.", "error": "Forbidden"}
        return httpx.Response(403, json=body)

    code, output = run(
        ["--production", *IDS], environ={API_TOKEN_ENV: REAL_TOKEN}, transport=recording_transport([], forbidden)
    )

    assert code == 1
    assert "Problem     HTTP 403: The token does not have access to this location." in output
    assert "Rate limit  not reported" in output


def test_render_lists_every_delivery_and_422_messages_are_joined() -> None:
    summary = Summary(
        where="somewhere",
        invoice_id="i",
        location_id="l",
        deliveries=[("email", "a@example.com"), ("email", "b@example.com"), ("sms", "+1")],
    )

    assert render(summary).splitlines()[3:6] == [
        "  Delivered   email to a@example.com",
        "              email to b@example.com",
        "              sms   to +1",
    ]


def test_the_loopback_guard_blocks_the_internet() -> None:
    # Proves the autouse guard works, so a production send that slipped past the mocks would fail.
    with pytest.raises(AssertionError, match=r"services\.leadconnectorhq\.com"):
        httpx.get(PRODUCTION_URL)
