"""Record the contract cassettes: the generated client, sync and async, through named scenarios.

    python -m scripts.record_cassettes                  # every scenario against a fresh local sandbox
    python -m scripts.record_cassettes --list           # the scenarios and what each one shows
    python -m scripts.record_cassettes --scenario email-test-mode --scenario invalid-token-401

    # Production, explicit opt-in only: SENDS REAL REQUESTS with your token.
    LEADWAY_CONTRACT_TOKEN=... python -m scripts.record_cassettes --target production \\
        --invoice-id ID --location-id ID --user-id ID

Each scenario runs once with `send_invoice.sync_detailed` and once with `asyncio_detailed`, and is
recorded by vcrpy into `contract_tests/cassettes/<target>/<sync|async>/<scenario>.yaml`. The sandbox
is served on a free loopback port and reset before every recording; its URL is rewritten to the
spec's sandbox server (`http://127.0.0.1:8765`) so the cassettes replay wherever they run.

Nothing reaches disk unscrubbed: `scripts.scrub.Scrubber` runs as vcrpy's before-record hooks, so
Authorization becomes `Bearer REDACTED` and emails, phones, names and addresses become numbered
placeholders, the same real value always the same placeholder across the whole run.

Against production only scenarios marked safe run: `send_manually` with `liveMode: false` (marks the
test invoice sent, delivers nothing) and the error paths that cannot send anything (401, 404, 422).
Retries are off while recording, so each cassette holds exactly the attempts the scenario made.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import vcr
from leadway_invoices_client import AuthenticatedClient
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import ErrorResponse, SendInvoiceRequest, SendInvoiceResponse

from scripts.scrub import Scrubber

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "contract_tests" / "cassettes"
SANDBOX_URL = "http://127.0.0.1:8765"  # the spec's sandbox server: what cassettes show
PRODUCTION_URL = "https://services.leadconnectorhq.com"
TOKEN_ENV = "LEADWAY_CONTRACT_TOKEN"  # noqa: S105 - the variable's name, not a token
INVALID_TOKEN = "invalid-token-for-contract-recording"  # noqa: S105 - wrong on purpose, for the 401
UNKNOWN_INVOICE_ID = "0000000000000000000000ff"
MODES = ("sync", "async")
VERSION = "2021-07-28"


class RecordingError(Exception):
    """A scenario did not behave as it should, or recording was refused; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where to record, and the ids and tokens its scenarios use."""

    name: str
    base_url: str  # as the cassettes show it
    tokens: dict[str, str]  # role ("agency", "location", "invalid") -> token
    invoice: str  # a draft invoice the agency token may send
    location: str  # its location (altId)
    user: str
    # (invoice, location) pairs only the sandbox has.
    void: tuple[str, str] | None = None
    paid: tuple[str, str] | None = None
    foreign: tuple[str, str] | None = None  # beyond the location token's reach
    faults: bool = False  # understands X-Sandbox-Fault

    @property
    def secrets(self) -> list[str]:
        return [t for role, t in self.tokens.items() if role != "invalid"] + [self.tokens["invalid"]]


def sandbox_target() -> Target:
    from scripts.sandbox import (  # here: production recording must not need the sandbox
        DEFAULT_TOKEN,
        DRAFT_INVOICE_ID,
        LOCATION_TOKEN,
        OTHER_LOCATION_DRAFT_ID,
        PAID_INVOICE_ID,
        SEED_LOCATIONS,
        SEED_USER_ID,
        VOID_INVOICE_ID,
    )

    first, second = SEED_LOCATIONS
    return Target(
        name="sandbox",
        base_url=SANDBOX_URL,
        tokens={"agency": DEFAULT_TOKEN, "location": LOCATION_TOKEN, "invalid": INVALID_TOKEN},
        invoice=DRAFT_INVOICE_ID,
        location=first,
        user=SEED_USER_ID,
        void=(VOID_INVOICE_ID, second),
        paid=(PAID_INVOICE_ID, first),
        foreign=(OTHER_LOCATION_DRAFT_ID, second),
        faults=True,
    )


def production_target(
    *, token: str | None, invoice: str | None, location: str | None, user: str | None, base_url: str = PRODUCTION_URL
) -> Target:
    if not token or not invoice or not location or not user:
        given = {f"${TOKEN_ENV}": token, "--invoice-id": invoice, "--location-id": location, "--user-id": user}
        missing = ", ".join(name for name, value in given.items() if not value)
        raise RecordingError(f"recording against production sends real requests; it needs {missing} too")
    if urlsplit(base_url).scheme != "https":
        raise RecordingError(f"refusing to send a production token over {base_url!r}: https only")
    return Target(
        name="production",
        base_url=base_url.rstrip("/"),
        tokens={"agency": token, "invalid": INVALID_TOKEN},
        invoice=invoice,
        location=location,
        user=user,
    )


# --- scenarios -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One send: which invoice, what body, with which token, and any sandbox fault."""

    invoice: str
    body: dict[str, Any]
    role: str = "agency"  # whose token: "agency", "location" or "invalid"
    fault: str | None = None
    raw: bool = False  # post the body as is (one the models would never build)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    expect: tuple[int, ...]  # status of each call, in order
    calls: Callable[[Target], list[Call]]
    production: bool = False  # safe against production: sends nothing to anyone
    needs: tuple[str, ...] = ()  # Target fields (or "faults", "location-token") it requires

    def runs_on(self, target: Target) -> bool:
        if target.name == "production" and not self.production:
            return False
        for need in self.needs:
            if need == "location-token" and "location" not in target.tokens:
                return False
            if need != "location-token" and not getattr(target, need):
                return False
        return True


def body(target: Target, action: str = "email", live: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "altId": target.location,
        "altType": "location",
        "userId": target.user,
        "action": action,
        "liveMode": live,
        **extra,
    }


def _send(action: str, live: bool, **extra: Any) -> Callable[[Target], list[Call]]:
    return lambda t: [Call(t.invoice, body(t, action, live, **extra))]


SENDER = {"fromName": "Alex Rivera", "fromEmail": "alex.rivera@example.com"}
CARD = {
    "enable": True,
    "type": "card",
    "paymentMethodId": "pm_1NqExample",
    "customerId": "cus_OdExample",
    "card": {"brand": "visa", "last4": "4242"},
}
BANK = {
    "enable": True,
    "type": "us_bank_account",
    "paymentMethodId": "pm_1NqBankExample",
    "customerId": "cus_OdExample",
    "usBankAccount": {"bank_name": "Example Bank", "last4": "6789"},
}


def _scenarios() -> list[Scenario]:
    actions = {"email": "email", "sms": "sms", "sms-and-email": "sms_and_email", "send-manually": "send_manually"}
    scenarios = [
        Scenario(
            f"{name}-{'live' if live else 'test'}-mode",
            f"action {action}, liveMode {str(live).lower()}",
            (200,),
            _send(action, live),
            production=action == "send_manually" and not live,
        )
        for name, action in actions.items()
        for live in (False, True)
    ]
    scenarios += [
        Scenario("sent-from", "email with a custom sender (sentFrom)", (200,), _send("email", False, sentFrom=SENDER)),
        Scenario("auto-payment-card", "email with card auto-payment", (200,), _send("email", False, autoPayment=CARD)),
        Scenario(
            "auto-payment-bank-account",
            "email with US bank account auto-payment",
            (200,),
            _send("email", False, autoPayment=BANK),
        ),
        Scenario(
            "auto-payment-off",
            "sms and email, live, auto-payment turned off, custom sender",
            (200,),
            _send("sms_and_email", True, sentFrom=SENDER, autoPayment={"enable": False}),
        ),
        Scenario(
            "location-token",
            "a sub-account token sending an invoice of its own location",
            (200,),
            lambda t: [Call(t.invoice, body(t), role="location")],
            needs=("location-token",),
        ),
        Scenario(
            "resend",
            "the same send twice: two deliveries, no idempotency",
            (200, 200),
            lambda t: [Call(t.invoice, body(t)), Call(t.invoice, body(t))],
        ),
        Scenario(
            "void-invoice-400",
            "a void invoice cannot be sent",
            (400,),
            lambda t: [Call(t.void[0], {**body(t), "altId": t.void[1]})] if t.void else [],
            needs=("void",),
        ),
        Scenario(
            "paid-invoice-400",
            "a paid invoice cannot be sent",
            (400,),
            lambda t: [Call(t.paid[0], {**body(t), "altId": t.paid[1]})] if t.paid else [],
            needs=("paid",),
        ),
        Scenario(
            "invalid-token-401",
            "an unknown bearer token",
            (401,),
            lambda t: [Call(t.invoice, body(t, "send_manually"), role="invalid")],
            production=True,
        ),
        Scenario(
            "foreign-location-403",
            "a sub-account token on another location's invoice",
            (403,),
            lambda t: [Call(t.foreign[0], {**body(t), "altId": t.foreign[1]}, role="location")] if t.foreign else [],
            needs=("foreign", "location-token"),
        ),
        Scenario(
            "unknown-invoice-404",
            "an invoice id that does not exist",
            (404,),
            lambda t: [Call(UNKNOWN_INVOICE_ID, body(t, "send_manually"))],
            production=True,
        ),
        Scenario(
            "invalid-body-422",
            "a body breaking the schema (unknown action, no userId): every problem listed",
            (422,),
            lambda t: [
                Call(
                    t.invoice,
                    {k: v for k, v in body(t, "fax").items() if k != "userId"},
                    raw=True,
                )
            ],
            production=True,
        ),
        Scenario(
            "rate-limited-429",
            "the burst budget is spent: 429 with Retry-After",
            (429,),
            lambda t: [Call(t.invoice, body(t), fault="rate-limit")],
            needs=("faults",),
        ),
        Scenario(
            "unavailable-503",
            "the service is unavailable (a 5xx: outcome unknown)",
            (503,),
            lambda t: [Call(t.invoice, body(t), fault="503")],
            needs=("faults",),
        ),
    ]
    return scenarios


SCENARIOS: dict[str, Scenario] = {s.name: s for s in _scenarios()}


# --- running -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: int
    parsed: object | None  # what the generated client parsed (None for raw calls)
    content: bytes = field(repr=False, default=b"")


def client_for(target: Target, base_url: str, call: Call) -> AuthenticatedClient:
    headers = {"X-Sandbox-Fault": call.fault} if call.fault else {}
    # Retries off: a cassette must hold exactly the attempts the scenario made. Strict, as the whole
    # contract suite: an answer that deviates from the spec is not parsed.
    return AuthenticatedClient(
        base_url=base_url, token=target.tokens[call.role], headers=headers, retry=None, strict=True
    )


def _raw_kwargs(call: Call) -> dict[str, Any]:
    return {"json": call.body, "headers": {"Version": VERSION}}


def run_sync(scenario: Scenario, target: Target, base_url: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for call in scenario.calls(target):
        with client_for(target, base_url, call) as client:
            if call.raw:
                response = client.get_httpx_client().post(f"/invoices/{call.invoice}/send", **_raw_kwargs(call))
                outcomes.append(Outcome(response.status_code, None, response.content))
            else:
                detailed = send_invoice.sync_detailed(
                    call.invoice, client=client, body=SendInvoiceRequest.from_dict(call.body)
                )
                outcomes.append(Outcome(int(detailed.status_code), detailed.parsed, detailed.content))
    return outcomes


async def run_async(scenario: Scenario, target: Target, base_url: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for call in scenario.calls(target):
        async with client_for(target, base_url, call) as client:
            if call.raw:
                response = await client.get_async_httpx_client().post(
                    f"/invoices/{call.invoice}/send", **_raw_kwargs(call)
                )
                outcomes.append(Outcome(response.status_code, None, response.content))
            else:
                detailed = await send_invoice.asyncio_detailed(
                    call.invoice, client=client, body=SendInvoiceRequest.from_dict(call.body)
                )
                outcomes.append(Outcome(int(detailed.status_code), detailed.parsed, detailed.content))
    return outcomes


def run(scenario: Scenario, target: Target, base_url: str, mode: str) -> list[Outcome]:
    if mode == "sync":
        return run_sync(scenario, target, base_url)
    return asyncio.run(run_async(scenario, target, base_url))


def check_outcomes(scenario: Scenario, outcomes: Sequence[Outcome]) -> None:
    """Raise RecordingError unless every call got its expected status and parsed to the right model."""
    statuses = tuple(o.status for o in outcomes)
    if statuses != scenario.expect:
        raise RecordingError(f"{scenario.name}: expected statuses {scenario.expect}, got {statuses}")
    for outcome in outcomes:
        if outcome.parsed is None:
            continue
        expected = SendInvoiceResponse if outcome.status == 200 else ErrorResponse
        if not isinstance(outcome.parsed, expected):
            parsed = type(outcome.parsed).__name__
            raise RecordingError(f"{scenario.name}: a {outcome.status} parsed as {parsed}, not {expected.__name__}")


def cassette_path(out: Path, target: Target, mode: str, scenario: Scenario) -> Path:
    return out / target.name / mode / f"{scenario.name}.yaml"


def recorder(scrubber: Scrubber, real_base_url: str, shown_base_url: str) -> vcr.VCR:
    real, shown = urlsplit(real_base_url).netloc, urlsplit(shown_base_url).netloc

    def show_canonical_url(request: Any) -> Any:
        # The sandbox runs on a free port; cassettes show the spec's server so they replay anywhere.
        if request.uri.startswith(real_base_url):
            request.uri = shown_base_url + request.uri[len(real_base_url) :]
        headers = dict(request.headers)
        for name in headers:
            if name.lower() == "host" and headers[name] == real:
                headers[name] = shown
        request.headers = headers
        return request

    def drop_volatile_headers(response: dict[str, Any]) -> dict[str, Any]:
        # Re-recording an unchanged API should give unchanged cassettes.
        headers = {k: v for k, v in response["headers"].items() if k.lower() != "date"}
        return {**response, "headers": headers}

    # record_mode "all": never replay while recording (a second identical send must really be sent).
    return vcr.VCR(
        record_mode="all",
        before_record_request=[show_canonical_url, scrubber.request],
        before_record_response=[scrubber.response, drop_volatile_headers],
        decode_compressed_response=True,
    )


@contextmanager
def _serving(target: Target) -> Iterator[tuple[str, Callable[[], None]]]:
    """The real base URL to send to, and how to reset the target before a scenario."""
    if target.name != "sandbox":
        yield target.base_url, lambda: None
        return
    from scripts.sandbox import create_app, serve_in_thread

    app = create_app()
    with serve_in_thread(app) as base_url:
        yield base_url, app.state.sandbox.reset


def record(
    target: Target,
    scenarios: Sequence[Scenario],
    *,
    out: Path = CASSETTES,
    modes: Sequence[str] = MODES,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Record every scenario in every mode; returns the cassettes written."""
    scrubber = Scrubber(secrets=target.secrets)
    written: list[Path] = []
    with _serving(target) as (real_base_url, reset):
        cassettes = recorder(scrubber, real_base_url, target.base_url)
        for scenario in scenarios:
            if not scenario.runs_on(target):
                log(f"skip   {scenario.name} (not for {target.name})")
                continue
            for mode in modes:
                reset()
                path = cassette_path(out, target, mode, scenario)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.unlink(missing_ok=True)
                with cassettes.use_cassette(str(path)):
                    outcomes = run(scenario, target, real_base_url, mode)
                try:
                    check_outcomes(scenario, outcomes)
                except RecordingError:
                    path.unlink(missing_ok=True)
                    raise
                written.append(path)
                log(f"record {path.relative_to(out)}: {', '.join(str(o.status) for o in outcomes)}")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", choices=["sandbox", "production"], default="sandbox")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="only these (repeatable)")
    parser.add_argument("--mode", action="append", choices=MODES, help="only sync or async (default both)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--out", type=Path, default=CASSETTES, help="cassette folder (default contract_tests/cassettes)"
    )
    parser.add_argument("--invoice-id", help="production: the test invoice (a draft you own)")
    parser.add_argument("--location-id", help="production: the invoice's location (altId)")
    parser.add_argument("--user-id", help="production: the user the sends are made as")
    parser.add_argument("--production-url", default=PRODUCTION_URL, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.list:
        for scenario in SCENARIOS.values():
            where = "sandbox, production" if scenario.production else "sandbox"
            print(f"{scenario.name:28} {'/'.join(map(str, scenario.expect)):8} {where:20} {scenario.summary}")
        return 0
    try:
        if args.target == "production":
            target = production_target(
                token=os.environ.get(TOKEN_ENV),
                invoice=args.invoice_id,
                location=args.location_id,
                user=args.user_id,
                base_url=args.production_url,
            )
            print(f"Recording against {target.base_url}: these are REAL requests.", file=sys.stderr)
        else:
            target = sandbox_target()
        scenarios = [SCENARIOS[name] for name in args.scenario] if args.scenario else list(SCENARIOS.values())
        record(target, scenarios, out=args.out, modes=args.mode or MODES)
    except (RecordingError, httpx.HTTPError) as exc:
        print(f"record_cassettes: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
