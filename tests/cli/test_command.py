"""`cli/command.py`: `leadway-invoices send`: what it refuses before any I/O (token, URL, file), and `--dry-run`."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from leadway_invoices_client import SendLedger
from leadway_invoices_client._ledger.postgres_store import masked
from leadway_invoices_client._runtime.constants import API_TOKEN_ENV as TOKEN_ENV
from leadway_invoices_client._runtime.constants import LEDGER_APP, LEDGER_FILE, LEDGER_SUFFIX, PRODUCTION_URL
from leadway_invoices_client.cli import main
from leadway_invoices_client.cli.command import ledger_path

from tests.mock_api import Server, mock_client, request_body

HEADER = "key,invoice_id,location_id,user_id,action,live_mode\n"
INVOICE = "6578278e879ad2646715ba9c"
REAL_TOKEN = "pit-0123456789abcdef"
_CONNECT, _GETADDRINFO = socket.socket.connect, socket.getaddrinfo


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + f"k1,{INVOICE},loc-1,user-1,email,false\nk2,{INVOICE}0,loc-2,user-1,sms,false\n")
    return path


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here must stop before any I/O: a connection attempt fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no connection may be made")

    monkeypatch.setattr("socket.socket.connect", refuse)
    monkeypatch.setattr("socket.getaddrinfo", refuse)


def test_dry_run_of_a_good_file_says_so_and_sends_nothing(good_file: Path, user_data: Path) -> None:
    code, out, err = run(["send", str(good_file), "--dry-run"])

    assert code == 0
    assert out.strip() == f"{good_file}: all 2 rows are valid (2 locations); nothing sent (--dry-run)"
    assert err == ""
    assert not user_data.exists()


def test_dry_run_reports_every_bad_row_with_its_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(
        HEADER + f"k1,{INVOICE},loc,user,email,false\nk2,{INVOICE},loc,user,fax,false\nk3,a/b,loc,user,sms,no\n"
    )

    code, out, err = run(["send", str(path), "--dry-run"])

    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"{path}: line 3: action must be one of email, send_manually, sms, sms_and_email, not 'fax'"
    assert lines[1].startswith(f"{path}: line 4: invoice_id contains '/'")
    assert lines[2] == f"{path}: line 4: live_mode must be true or false, not 'no'"
    assert lines[3] == f"{path}: 2 of 3 rows have problems; nothing was sent"


def test_a_real_run_with_a_bad_row_sends_nothing(tmp_path: Path, user_data: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + f"k1,{INVOICE},loc,user,email,false\nk2,{INVOICE},loc,user,fax,false\n")

    code, _, err = run(["send", str(path)], {TOKEN_ENV: REAL_TOKEN})

    assert code == 2
    assert "line 3: action must be one of" in err
    assert not user_data.exists()


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(["send", str(tmp_path / "nope.csv"), "--dry-run"])

    assert code == 2
    assert err.startswith("leadway-invoices: error: cannot read")


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        ([], {}, f"no API token: set ${TOKEN_ENV} (the token is never taken on the command line)"),
        ([], {TOKEN_ENV: "  "}, f"no API token: set ${TOKEN_ENV}"),
        ([], {TOKEN_ENV: "sandbox-agency-token"}, f"holds a sandbox token; refusing to send it to {PRODUCTION_URL}"),
        ([], {TOKEN_ENV: "sandbox-location-token"}, "holds a sandbox token"),
        ([], {TOKEN_ENV: "mine", "LEADWAY_SANDBOX_TOKEN": "mine"}, "holds a sandbox token"),
        (["--base-url", "http://api.example.com"], {TOKEN_ENV: REAL_TOKEN}, "over plain http: https only"),
        (["--base-url", "ftp://127.0.0.1"], {TOKEN_ENV: REAL_TOKEN}, "--base-url must be an https URL"),
        (["--base-url", "https://"], {TOKEN_ENV: REAL_TOKEN}, "--base-url must be an https URL"),
        ([], {TOKEN_ENV: REAL_TOKEN + "\n"}, f"${TOKEN_ENV}: "),
    ],
)
def test_refusals_happen_before_any_io(
    good_file: Path, flags: list[str], environ: dict[str, str], message: str, user_data: Path
) -> None:
    code, out, err = run(["send", str(good_file), *flags], environ)

    assert code == 2
    assert out == ""
    assert message in err
    assert REAL_TOKEN not in err
    assert not user_data.exists()


def test_the_token_is_not_an_option(good_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["send", str(good_file), "--token", REAL_TOKEN])

    assert exited.value.code == 2
    assert "unrecognized arguments: --token" in capsys.readouterr().err


def test_a_ledger_path_that_cannot_be_a_ledger_is_a_usage_error(good_file: Path, tmp_path: Path) -> None:
    code, out, err = run(["send", str(good_file), "--ledger", str(tmp_path)], {TOKEN_ENV: REAL_TOKEN})

    assert code == 2
    assert out == ""
    assert "is a directory" in err


def test_an_invoice_on_two_lines_refuses_the_file_naming_both_lines(tmp_path: Path, user_data: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + f"nov,{INVOICE},loc,user,email,false\nnov-2,{INVOICE},loc,user,sms,false\n")

    code, out, err = run(["send", str(path)], {TOKEN_ENV: REAL_TOKEN})

    assert code == 2
    assert out == ""
    assert f"{path}: line 3: invoice {INVOICE} is also on line 2" in err
    assert "--allow-repeated-invoices" in err
    assert not user_data.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [("3601", "from 0 to 3600"), ("-1", "must be >= 0"), ("nan", "finite"), ("soon", "a number of seconds")],
)
def test_a_grace_period_reconciliation_would_refuse_is_refused_before_any_io(
    good_file: Path, value: str, message: str, capsys: pytest.CaptureFixture[str], user_data: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["send", str(good_file), "--grace-period", value], environ={TOKEN_ENV: REAL_TOKEN})

    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert not user_data.exists()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080\r", "https://api.example.com /x", "https://api.\x00example.com"]
)
def test_a_control_character_or_space_in_the_base_url_is_refused_before_any_io(
    good_file: Path, url: str, user_data: Path
) -> None:
    code, out, err = run(["send", str(good_file), "--base-url", url], {TOKEN_ENV: REAL_TOKEN})

    assert code == 2
    assert out == ""
    assert "leadway-invoices: error: --base-url contains" in err
    assert "a URL holds no spaces or control characters" in err
    assert not user_data.exists()


def _ledger_with(path: Path | str, key: str, invoice: str) -> None:
    with SendLedger(path) as ledger, mock_client(Server()) as client:
        ledger.send(key, client=client, invoice_id=invoice, body=request_body())


def test_a_dry_run_checks_the_keys_against_the_ledger_without_changing_it(good_file: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "sends.sqlite3"
    _ledger_with(ledger, "k2", "6578278e879ad2646715ba00")
    before = ledger.read_bytes()

    code, out, err = run(["send", str(good_file), "--ledger", str(ledger), "--dry-run"])

    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"{good_file}: line 3: key 'k2' is recorded in ledger {ledger} for invoice 6578278e879ad2646715ba00,"
        f" not {INVOICE}0: a key names one send of one invoice",
        f"{good_file}: 1 of 2 rows have problems; nothing was sent",
    ]
    assert ledger.read_bytes() == before


def test_a_real_run_checks_the_keys_against_the_ledger_before_sending_anything(good_file: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "sends.sqlite3"
    _ledger_with(ledger, "k2", "6578278e879ad2646715ba00")

    code, _, err = run(["send", str(good_file), "--ledger", str(ledger)], {TOKEN_ENV: REAL_TOKEN})

    assert code == 2
    assert "line 3: key 'k2' is recorded in ledger" in err
    with SendLedger(ledger) as opened:
        assert [record.key for record in opened.records()] == ["k2"]


def test_the_default_ledger_is_one_per_user_whatever_the_file_is_called(tmp_path: Path, user_data: Path) -> None:
    renamed = tmp_path / "invoices-december.csv"

    assert ledger_path(tmp_path / "invoices.csv", None) == ledger_path(renamed, None)
    assert ledger_path(renamed, None) == user_data / LEDGER_APP / LEDGER_FILE
    assert ledger_path(renamed, tmp_path / "mine.db") == tmp_path / "mine.db"
    beside = tmp_path / ("invoices.csv" + LEDGER_SUFFIX)
    beside.touch()  # an earlier release's ledger: still used for its file
    assert ledger_path(tmp_path / "invoices.csv", None) == beside
    assert ledger_path(renamed, None) == user_data / LEDGER_APP / LEDGER_FILE


def test_a_dry_run_neither_creates_the_default_ledger_nor_its_folder(good_file: Path, user_data: Path) -> None:
    code, _, _ = run(["send", str(good_file), "--dry-run"])

    assert code == 0
    assert not user_data.exists()


def test_a_dry_run_checks_the_keys_against_a_postgresql_ledger_showing_no_password(
    good_file: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("socket.socket.connect", _CONNECT)  # the ledger's server, on loopback
    monkeypatch.setattr("socket.getaddrinfo", _GETADDRINFO)
    _ledger_with(pg_url, "k2", "6578278e879ad2646715ba00")
    shown, password = masked(pg_url)

    code, out, err = run(["send", str(good_file), "--ledger", pg_url, "--dry-run"])

    assert code == 2
    assert err.splitlines()[0] == (
        f"{good_file}: line 3: key 'k2' is recorded in ledger {shown} for invoice 6578278e879ad2646715ba00,"
        f" not {INVOICE}0: a key names one send of one invoice"
    )
    assert password not in out + err
    assert ledger_path(good_file, pg_url) == pg_url  # a URL stays a URL (a Path would fold its //)
