"""`cli/check.py`: `leadway-invoices check`, the live read check. Against the sandbox on loopback (with
its token): it passes, and fails naming the path when a sandbox fault makes an answer deviate; in
memory: it stops at the first 429 and 401, paces, caps its reads, refuses bad usage before any I/O, and
its guard lets nothing but a GET of the named invoices leave."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadway_invoices_client._runtime.constants import API_TOKEN_ENV, CHECK_INTERVAL, CHECK_MAX_READS
from leadway_invoices_client._runtime.guard import RequestRefused, Target
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.cli import check, main
from leadway_invoices_client.cli.check import (
    EXIT_AGREES,
    EXIT_DEVIATES,
    RATE_LIMIT_HEADERS,
    check_client,
    run_check,
)
from leadway_invoices_client.models import AltType, SendAction, SendInvoiceRequest

from contract_tests import CONTRACT_TOKEN_ENV
from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    READ_PATH,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SandboxConfig,
    create_app,
    load_spec,
    serve_in_thread,
)
from tests.mock_api import READ_BODY, json_response

LOCATION = SEED_LOCATIONS[0]
PAID_INVOICE_ID = "6578278e879ad2646715ba9e"
FIRST_LOCATION_INVOICES = [DRAFT_INVOICE_ID, SECOND_DRAFT_INVOICE_ID, PAID_INVOICE_ID]
RATE_LIMITS = {name: "5" for name in RATE_LIMIT_HEADERS}
TARGET = Target("https://api.example", "pit-secret-token")


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", *argv], environ={} if environ is None else environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def check_sandbox(invoice_ids: list[str], **faults: str) -> tuple[int, str, str]:
    """`leadway-invoices check` of `invoice_ids` against a fresh sandbox over a socket, with its token."""
    app = create_app(SandboxConfig(faults=faults))
    with serve_in_thread(app) as url:
        ids = [arg for invoice_id in invoice_ids for arg in ("--invoice-id", invoice_id)]
        return run(["--url", url, "--location-id", LOCATION, *ids], {API_TOKEN_ENV: DEFAULT_TOKEN})


# --- against the sandbox -------------------------------------------------------------------------


def test_the_check_passes_against_the_sandbox_and_sends_nothing() -> None:
    app = create_app(SandboxConfig())
    with serve_in_thread(app) as url:
        ids = [arg for invoice_id in FIRST_LOCATION_INVOICES for arg in ("--invoice-id", invoice_id)]
        code, out, err = run(["--url", url, "--location-id", LOCATION, *ids], {API_TOKEN_ENV: DEFAULT_TOKEN})
        outbox = app.state.sandbox.outbox

    assert (code, err) == (EXIT_AGREES, "")
    assert "checked 3 of 3 invoice(s)" in out
    assert "0 deviation(s); every answer agrees with the spec" in out
    assert outbox == ()


@pytest.mark.parametrize(
    ("fault", "path"),
    [
        ("omit:liveMode", "invoice 6578278e879ad2646715ba9d: $.liveMode: expected boolean, got missing"),
        ("omit:X-RateLimit-Remaining", "header X-RateLimit-Remaining: expected integer >= 0, got missing"),
        ("omit:X-RateLimit-Limit-Daily", "header X-RateLimit-Limit-Daily: expected integer >= 0, got missing"),
        ("omit:_id", "$._id: expected a value (needed to read the answer), got missing"),
    ],
)
def test_a_sandbox_fault_that_makes_an_answer_deviate_fails_the_check_naming_the_path(fault: str, path: str) -> None:
    code, out, _ = check_sandbox(FIRST_LOCATION_INVOICES, **{SECOND_DRAFT_INVOICE_ID: fault})

    assert code == EXIT_DEVIATES
    assert path in out
    assert "1 deviation(s); the API deviates" in out
    assert "checked 3 of 3" in out, "a deviation does not stop the check"
    assert DEFAULT_TOKEN not in out


def test_a_deviation_is_named_by_its_path_never_by_its_value() -> None:
    invoice = app_invoice(SECOND_DRAFT_INVOICE_ID)
    code, out, _ = check_sandbox([SECOND_DRAFT_INVOICE_ID], **{SECOND_DRAFT_INVOICE_ID: "omit:amountPaid"})

    assert code == EXIT_DEVIATES
    assert "$.amountPaid: expected number, got missing" in out
    for value in (invoice["name"], invoice["contactDetails"]["email"], invoice["contactDetails"]["phoneNo"]):
        assert value not in out


def app_invoice(invoice_id: str) -> dict[str, Any]:
    app = create_app(SandboxConfig())
    with serve_in_thread(app) as url:
        answer = httpx.get(
            f"{url}/invoices/{invoice_id}",
            params={"altId": LOCATION, "altType": "location"},
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}", "Version": "2021-07-28"},
        )
    document: dict[str, Any] = answer.json()
    return document


def test_an_invoice_of_another_location_is_a_deviation_of_the_status() -> None:
    code, out, _ = check_sandbox([DRAFT_INVOICE_ID, "65782a3c879ad2646715bb12"])

    assert code == EXIT_DEVIATES
    assert "invoice 65782a3c879ad2646715bb12: status: expected 200, got 404" in out


def test_the_headers_it_requires_are_those_the_spec_requires_on_the_read() -> None:
    answer = load_spec()["paths"][READ_PATH]["get"]["responses"]["200"]
    spec = load_spec()
    required = []
    for name, header in answer["headers"].items():
        if "$ref" in header:
            header = spec["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]
        if header.get("required"):
            assert header["schema"] == {"type": "integer", "minimum": 0}
            required.append(name)
    assert sorted(required) == sorted(RATE_LIMIT_HEADERS)


# --- in memory: stops, pacing, the guard -------------------------------------------------------


class Answers:
    """A MockTransport handler answering reads from a script of statuses (200 by default)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        invoice_id = request.url.path.rsplit("/", 1)[1]
        body = {**READ_BODY, "_id": invoice_id} if status == 200 else {"statusCode": status, "message": "no"}
        return json_response(status, body, RATE_LIMITS)


def memory_check(answers: Answers, invoice_ids: list[str], **kwargs: Any) -> Any:
    kwargs.setdefault("interval", 0)
    with check_client(TARGET, invoice_ids, LOCATION, transport=httpx.MockTransport(answers)) as client:
        return run_check(client, invoice_ids, LOCATION, **kwargs)


IDS = [f"65c0000000000000000000{n:02d}" for n in range(10)]


@pytest.mark.parametrize("status", [429, 401])
def test_it_stops_at_the_first_429_or_401(status: int) -> None:
    answers = Answers(200, status)
    report = memory_check(answers, IDS)

    assert len(answers.requests) == report.reads == 2
    assert report.stopped == f"the API answered {status} to the read of invoice {IDS[1]}"
    assert [str(f) for f in report.findings] == [f"invoice {IDS[1]}: status: expected 200, got {status}"]
    assert report.exit_code == EXIT_DEVIATES


def test_a_429_is_not_retried_and_a_5xx_does_not_stop_the_check() -> None:
    answers = Answers(503, 200)
    report = memory_check(answers, IDS[:2])

    assert len(answers.requests) == 2
    assert report.stopped is None
    assert [str(f) for f in report.findings] == [f"invoice {IDS[0]}: status: expected 200, got 503"]


def test_every_read_is_strict_and_checks_the_id() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return json_response(200, {**READ_BODY, "_id": IDS[5], "qty": 1, "total": "999"}, RATE_LIMITS)

    with check_client(TARGET, IDS[:1], LOCATION, transport=httpx.MockTransport(answer)) as client:
        report = run_check(client, IDS[:1], LOCATION, interval=0)

    assert [str(f.deviation) for f in report.findings] == [
        "$.total: expected number, got string",
        "$._id: expected the id of the invoice read, got another id",
    ]


def test_reads_are_spaced_by_the_interval() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    report = memory_check(Answers(), IDS[:4], interval=CHECK_INTERVAL, sleep=sleep, clock=lambda: now[0])

    assert report.reads == 4
    assert sleeps == pytest.approx([CHECK_INTERVAL] * 3)


def test_the_reads_are_paced_by_the_rate_limit_headers() -> None:
    # The client's Pacer reads X-RateLimit-*: once the server says none is left in its 100 ms window,
    # the next read waits for the window (a lower bound, so a busy machine cannot fail it).
    def answer(request: httpx.Request) -> httpx.Response:
        left = str(max(0, 1 - len(sent)))
        sent.append(time.monotonic())
        headers = {**RATE_LIMITS, "X-RateLimit-Max": "2", "X-RateLimit-Remaining": left}
        headers["X-RateLimit-Interval-Milliseconds"] = "100"
        invoice_id = request.url.path.rsplit("/", 1)[1]
        return json_response(200, {**READ_BODY, "_id": invoice_id}, headers)

    sent: list[float] = []
    with check_client(TARGET, IDS[:3], LOCATION, transport=httpx.MockTransport(answer)) as client:
        report = run_check(client, IDS[:3], LOCATION, interval=0)
    assert report.exit_code == EXIT_AGREES
    assert len(sent) == 3
    assert sent[2] - sent[0] >= 0.09


def test_no_request_but_a_get_of_a_named_invoice_can_leave() -> None:
    answers = Answers()
    client = check_client(TARGET, IDS[:2], LOCATION, transport=httpx.MockTransport(answers))
    body = SendInvoiceRequest(
        alt_id=LOCATION, alt_type=AltType.LOCATION, user_id="u", action=SendAction.EMAIL, live_mode=False
    )
    http = client.get_httpx_client()
    query = {"altId": LOCATION, "altType": "location"}
    attempts: list[Any] = [
        lambda: send_invoice.sync(IDS[0], client=client, body=body),
        lambda: send_invoice.sync_detailed(IDS[0], client=client, body=body),
        lambda: get_invoice.sync(IDS[2], client=client, alt_id=LOCATION, alt_type=AltType.LOCATION),
        lambda: get_invoice.sync(IDS[0], client=client, alt_id="another-location", alt_type=AltType.LOCATION),
        lambda: get_invoice.sync(IDS[0], client=client, alt_id=LOCATION, alt_type=AltType.ACCOUNT),
        *(lambda method=method: http.request(method, f"/invoices/{IDS[0]}", params=query) for method in _METHODS),
        lambda: http.get(f"/invoices/{IDS[0]}/send", params=query),
        lambda: http.get(f"/invoices/{IDS[0]}", params={**query, "extra": "1"}),
        lambda: http.request("GET", f"/invoices/{IDS[0]}", params=query, content=b"{}"),
        lambda: http.get(f"https://elsewhere.example/invoices/{IDS[0]}", params=query),
        lambda: http.get(f"http://api.example/invoices/{IDS[0]}", params=query),
        lambda: http.get(f"https://api.example:8443/invoices/{IDS[0]}", params=query),
    ]
    for attempt in attempts:
        with pytest.raises(RequestRefused):
            attempt()
    assert answers.requests == [], "a refused request reached the transport"

    assert get_invoice.sync(IDS[1], client=client, alt_id=LOCATION, alt_type=AltType.LOCATION).id == IDS[1]
    assert [r.method for r in answers.requests] == ["GET"]


_METHODS = ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


async def test_the_guard_holds_for_asyncio_too() -> None:
    answers = Answers()
    client = check_client(TARGET, IDS[:1], LOCATION, transport=httpx.MockTransport(answers))
    body = SendInvoiceRequest(
        alt_id=LOCATION, alt_type=AltType.LOCATION, user_id="u", action=SendAction.EMAIL, live_mode=False
    )
    with pytest.raises(RequestRefused, match="POST"):
        await send_invoice.asyncio(IDS[0], client=client, body=body)
    assert answers.requests == []
    invoice = await get_invoice.asyncio(IDS[0], client=client, alt_id=LOCATION, alt_type=AltType.LOCATION)
    assert invoice.id == IDS[0]


# --- usage, before any I/O -----------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no connection may be made")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ([], {API_TOKEN_ENV: "tok"}, None),
        (["--location-id", LOCATION, "--invoice-id", IDS[0]], {}, f"no API token: set ${API_TOKEN_ENV}"),
        (
            ["--location-id", LOCATION, "--invoice-id", IDS[0]],
            {API_TOKEN_ENV: DEFAULT_TOKEN},
            "holds a sandbox token; refusing to send it to https://services.leadconnectorhq.com",
        ),
        (["--url", "http://api.example", "--location-id", LOCATION, "--invoice-id", IDS[0]], None, "plain http"),
        (["--location-id", LOCATION, "--invoice-id", "../send"], None, "invoice_id"),
        (["--location-id", " ", "--invoice-id", IDS[0]], None, "--location-id must not be empty"),
        (
            ["--location-id", LOCATION, *(a for i in IDS[:3] for a in ("--invoice-id", i)), "--max-reads", "2"],
            None,
            "3 invoices named, more than --max-reads 2",
        ),
    ],
)
def test_bad_usage_is_refused_before_any_io(
    argv: list[str], environ: dict[str, str] | None, message: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if message is None:  # argparse's own: the required options
        with pytest.raises(SystemExit) as exited:
            run(argv, environ)
        assert exited.value.code == 2
        assert "--location-id" in capsys.readouterr().err
        return
    code, out, err = run(argv, {API_TOKEN_ENV: "pit-token"} if environ is None else environ)
    assert (code, out) == (2, "")
    assert message in err
    assert "pit-token" not in err


def test_the_read_cap_defaults_to_50_and_repeated_ids_are_read_once() -> None:
    assert CHECK_MAX_READS == 50
    answers = Answers()
    code, out, _ = run_with_transport(answers, [IDS[0], IDS[1], IDS[0]])
    assert code == EXIT_AGREES
    assert [r.url.path for r in answers.requests] == [f"/invoices/{IDS[0]}", f"/invoices/{IDS[1]}"]
    assert "checked 2 of 2" in out


def run_with_transport(answers: Answers, invoice_ids: list[str]) -> tuple[int, str, str]:
    """The command, its reads answered in memory (the check's client gets `answers` as its transport)."""

    def in_memory(target: Target, ids: list[str], location: str) -> Any:
        return check_client(target, ids, location, transport=httpx.MockTransport(answers))

    patch = pytest.MonkeyPatch()
    patch.setattr(check, "check_client", in_memory)
    try:
        ids = [arg for invoice_id in invoice_ids for arg in ("--invoice-id", invoice_id)]
        return run(["--location-id", LOCATION, *ids], {API_TOKEN_ENV: "pit-token"})
    finally:
        patch.undo()


def test_the_output_is_plain_and_has_no_token() -> None:
    answers = Answers(200, 404)
    code, out, err = run_with_transport(answers, IDS[:2])
    assert code == EXIT_DEVIATES
    assert out.splitlines() == [
        f"invoice {IDS[1]}: status: expected 200, got 404",
        out.splitlines()[-1],
    ]
    assert out.splitlines()[-1].startswith("checked 2 of 2 invoice(s) at services.leadconnectorhq.com in ")
    assert "pit-token" not in out + err
    assert json.dumps(READ_BODY["name"]) not in out


def test_the_contract_live_session_runs_this_check_with_the_suites_token() -> None:
    # noxfile.py cannot import the suite, so it names the variable again; the session only calls the command.
    noxfile = (Path(__file__).parents[2] / "noxfile.py").read_text(encoding="utf-8")
    assert f'CONTRACT_TOKEN_ENV = "{CONTRACT_TOKEN_ENV}"' in noxfile
    assert f'session.run("leadway-invoices", "check", *session.posargs, env={{"{API_TOKEN_ENV}": token}})' in noxfile


def test_a_read_without_an_answer_is_listed_and_the_check_goes_on() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return Answers()(request)

    with check_client(TARGET, IDS[:2], LOCATION, transport=httpx.MockTransport(answer)) as client:
        report = run_check(client, IDS[:2], LOCATION, interval=0)

    assert len(calls) == 2, "nothing is retried"
    assert [str(f) for f in report.findings] == [
        f"invoice {IDS[0]}: answer: expected an HTTP answer, got TransportError"
    ]
    assert report.exit_code == EXIT_DEVIATES
