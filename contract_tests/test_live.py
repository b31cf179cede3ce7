"""Live mode: the suite against a real API on explicit opt-in, and proof that its guards hold.

`test_the_live_api_honours_the_spec` runs only with `--contract-live-url` (see contract_tests/live.py);
everything else here runs offline or against the sandbox on loopback, and shows that live mode
refuses unsafe setups, never sends an unsafe request, stops at its cap and at a 429, and paces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from leadway_invoices_client._runtime.constants import PRODUCTION_URL as PRODUCTION

from contract_tests import CONTRACT_TOKEN_ENV as TOKEN_ENV
from contract_tests.budget import tally
from contract_tests.live import (
    MAX_REQUESTS_LIMIT,
    LiveModeRefused,
    LiveSender,
    LiveTarget,
    UnsafeRequest,
    live_schema,
    run_live,
)
from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    SEND_PATH,
    SandboxConfig,
    create_app,
    serve_in_thread,
)

INVOICE = "6578278e879ad2646715ba9c"


@pytest.fixture
def live_target(request: pytest.FixtureRequest) -> LiveTarget:
    option = request.config.getoption
    target = LiveTarget.from_options(
        option("--contract-live-url"),
        invoice_id=option("--contract-invoice-id"),
        location_id=option("--contract-location-id"),
        user_id=option("--contract-user-id"),
        max_requests=option("--contract-max-requests"),
        loopback_token=DEFAULT_TOKEN,
    )
    if target is None:
        pytest.skip("live mode is opt-in: --contract-live-url plus the test invoice's ids (contract_tests/live.py)")
    return target


def test_the_live_api_honours_the_spec(live_target: LiveTarget) -> None:
    report = run_live(live_target, LiveSender(live_target))
    tally["live requests"] += report.sent
    assert report.sent > 0, report.stopped
    assert report.sent <= live_target.max_requests
    assert report.failures == []


# --- opt-in --------------------------------------------------------------------------------------


def target(url: str = PRODUCTION, *, env: dict[str, str] | None = None, **overrides: Any) -> LiveTarget | None:
    options: dict[str, Any] = {"invoice_id": INVOICE, "location_id": "loc", "user_id": "usr", "max_requests": 20}
    options.update(overrides)
    return LiveTarget.from_options(url, environ={TOKEN_ENV: "tok"} if env is None else env, **options)


def test_no_url_means_no_live_mode() -> None:
    assert LiveTarget.from_options(None, invoice_id=None, location_id=None, user_id=None, max_requests=20) is None


@pytest.mark.parametrize(
    ("url", "env", "overrides", "message"),
    [
        (PRODUCTION, {}, {}, f"no API token: set \\${TOKEN_ENV}"),
        ("https://10.0.0.8:8443", {}, {}, f"no API token: set \\${TOKEN_ENV}"),
        (PRODUCTION, {TOKEN_ENV: "sandbox-agency-token"}, {}, "holds a sandbox token"),
        ("http://services.leadconnectorhq.com", None, {}, "over plain http"),
        (PRODUCTION, None, {"invoice_id": None}, "needs explicit --contract-invoice-id"),
        (PRODUCTION, None, {"location_id": "", "user_id": None}, "--contract-location-id, --contract-user-id"),
        (PRODUCTION, None, {"max_requests": 0}, "between 1 and"),
        (PRODUCTION, None, {"max_requests": MAX_REQUESTS_LIMIT + 1}, "between 1 and"),
        ("services.leadconnectorhq.com", None, {}, "must be an http"),
    ],
)
def test_unsafe_setups_are_refused(
    url: str, env: dict[str, str] | None, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(LiveModeRefused, match=message):
        target(url, env=env, **overrides)


def test_a_loopback_target_may_use_the_sandbox_token_and_the_token_stays_out_of_repr() -> None:
    loopback = LiveTarget.from_options(
        "http://127.0.0.1:8765",
        invoice_id=INVOICE,
        location_id="loc",
        user_id="usr",
        max_requests=5,
        environ={},
        loopback_token="sandbox-token",
    )
    assert loopback is not None
    assert loopback.token == "sandbox-token"
    production = target()
    assert production is not None
    assert "tok" not in repr(production).replace("token", "")


# --- the guard -----------------------------------------------------------------------------------


def kwargs(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "method": "POST",
        "url": f"{PRODUCTION}/invoices/{INVOICE}/send",
        "headers": {},
        "json": {"altId": "loc", "liveMode": False, "action": "email"},
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"json": {"altId": "loc", "liveMode": True}}, "liveMode is not false"),
        ({"json": {"altId": "loc"}}, "liveMode is not false"),
        ({"json": {"altId": "loc", "liveMode": "false"}}, "liveMode is not false"),
        ({"json": {"altId": "other", "liveMode": False}}, "altId"),
        ({"json": ["liveMode", False]}, "not a JSON object"),
        ({"data": b'{"liveMode": false}', "json": None}, "not a JSON object"),
        ({"url": f"{PRODUCTION}/invoices/6578278e879ad2646715ba9d/send"}, "another invoice"),
        ({"url": f"{PRODUCTION}/invoices/{INVOICE}/send?x=1"}, "another invoice"),
        ({"url": f"https://evil.example/invoices/{INVOICE}/send"}, "host"),
        ({"url": f"http://services.leadconnectorhq.com/invoices/{INVOICE}/send"}, "host"),
        ({"method": "DELETE"}, "method"),
    ],
)
def test_the_guard_refuses_every_request_that_is_not_a_test_send_of_the_given_invoice(
    changes: dict[str, Any], reason: str
) -> None:
    live = target()
    assert live is not None
    sender = LiveSender(live)
    sender.check(kwargs())
    with pytest.raises(UnsafeRequest, match=reason):
        sender.check(kwargs(**changes))


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answering(*statuses: int, remaining: str = "99") -> tuple[httpx.MockTransport, list[httpx.Request]]:
    sent: list[httpx.Request] = []
    answers: Iterator[int] = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        headers = {"X-RateLimit-Remaining": remaining, "X-RateLimit-Interval-Milliseconds": "10000"}
        return httpx.Response(next(answers, 200), json={}, headers=headers)

    return httpx.MockTransport(handler), sent


@pytest.fixture(scope="module")
def safe_case() -> Any:
    live = target()
    assert live is not None
    operation = live_schema(live)[SEND_PATH]["POST"]
    return operation.Case(
        path_parameters={"invoiceId": INVOICE},
        headers={"Version": "2021-07-28"},
        body={"altId": "loc", "altType": "location", "userId": "usr", "action": "email", "liveMode": False},
        media_type="application/json",
    )


def test_it_stops_at_the_cap_and_paces_between_requests(safe_case: Any) -> None:
    live = target(max_requests=3)
    assert live is not None
    transport, sent = answering()
    fake = FakeTime()
    sender = LiveSender(live, transport=transport, min_interval=0.5, sleep=fake.sleep, clock=fake.clock)
    for _ in range(3):
        sender.send(safe_case)
    with pytest.raises(LiveModeRefused, match="cap of 3"):
        sender.send(safe_case)
    assert len(sent) == 3
    assert fake.sleeps == [0.5, 0.5]
    assert json.loads(sent[0].content)["liveMode"] is False
    assert sent[0].headers["Authorization"] == "Bearer tok"
    assert "x-schemathesis-testcaseid" not in sent[0].headers


def test_it_waits_for_the_next_window_when_few_requests_are_left(safe_case: Any) -> None:
    live = target()
    assert live is not None
    transport, _ = answering(remaining="3")
    fake = FakeTime()
    sender = LiveSender(live, transport=transport, min_interval=0.5, sleep=fake.sleep, clock=fake.clock)
    sender.send(safe_case)
    sender.send(safe_case)
    assert fake.sleeps == [10.0]


def test_it_stops_at_the_first_429(safe_case: Any) -> None:
    live = target()
    assert live is not None
    transport, sent = answering(200, 429)
    sender = LiveSender(live, transport=transport, min_interval=0)
    sender.send(safe_case)
    assert sender.send(safe_case).status_code == 429
    with pytest.raises(LiveModeRefused, match="429"):
        sender.send(safe_case)
    assert len(sent) == 2


def test_the_whole_live_run_against_the_sandbox_on_loopback() -> None:
    # The same run as against a real API, aimed at a throwaway sandbox: every answer is checked, no
    # request outside the guard is sent, and the cap holds.
    first_location = SEED_LOCATIONS[0]
    app = create_app(SandboxConfig(burst_limit=1000))
    with serve_in_thread(app) as base_url:
        live = LiveTarget.from_options(
            base_url,
            invoice_id=DRAFT_INVOICE_ID,
            location_id=first_location,
            user_id=SEED_USER_ID,
            max_requests=12,
            environ={},
            loopback_token=DEFAULT_TOKEN,
        )
        assert live is not None
        report = run_live(live, LiveSender(live, min_interval=0))
        outbox = app.state.sandbox.outbox
    assert report.failures == []
    assert report.sent == 12
    assert report.stopped is not None
    assert report.skipped, "negative generation never touched liveMode, altId or the invoice id"
    assert outbox, "no positive case was accepted"
    assert all(delivery.invoice_id == DRAFT_INVOICE_ID for delivery in outbox)
