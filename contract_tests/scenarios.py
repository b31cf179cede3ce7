"""The contract cassettes' scenarios: what each one sends or reads, and the statuses it must get.

`contract_tests/record.py` records them (the generated client, sync and async, through vcrpy);
`test_cassettes.py` replays them and checks that every scenario has its cassettes. Against production
only scenarios marked safe run: `send_manually` with `liveMode: false` (marks the test invoice sent,
delivers nothing), reads, and the error paths that cannot send anything (401, 404, 422).

A call is a send (`send_invoice`) or a read (`get_invoice`, kind "read"): the read scenarios show what
reconciliation relies on, a read before and after a send (draft, then sent with a later updatedAt) and
a read after a 503 (still draft: nothing was sent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract_tests.targets import RecordingTarget

UNKNOWN_INVOICE_ID = "0000000000000000000000ff"


@dataclass(frozen=True)
class Call:
    """One send or read: which invoice, what body (for a read: its altId/altType query), with which
    token, and any sandbox fault."""

    invoice: str
    body: dict[str, Any]
    role: str = "agency"  # whose token: "agency", "location" or "invalid"
    fault: str | None = None
    raw: bool = False  # send the body (or a read's query) as is: one the client would never build
    kind: str = "send"  # "send" (POST .../send) or "read" (GET /invoices/{id})


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    expect: tuple[int, ...]  # status of each call, in order
    calls: Callable[[RecordingTarget], list[Call]]
    production: bool = False  # safe against production: sends nothing to anyone
    needs: tuple[str, ...] = ()  # Target fields (or "faults", "location-token") it requires

    def runs_on(self, target: RecordingTarget) -> bool:
        if target.name == "production" and not self.production:
            return False
        for need in self.needs:
            if need == "location-token" and "location" not in target.tokens:
                return False
            if need != "location-token" and not getattr(target, need):
                return False
        return True


def body(target: RecordingTarget, action: str = "email", live: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "altId": target.location,
        "altType": "location",
        "userId": target.user,
        "action": action,
        "liveMode": live,
        **extra,
    }


def _send(action: str, live: bool, **extra: Any) -> Callable[[RecordingTarget], list[Call]]:
    return lambda t: [Call(t.invoice, body(t, action, live, **extra))]


def query(target: RecordingTarget, location: str | None = None) -> dict[str, Any]:
    """A read's query: the location the invoice lives in."""
    return {"altId": location or target.location, "altType": "location"}


def read(target: RecordingTarget, invoice: str | None = None, **fields: Any) -> Call:
    return Call(invoice or target.invoice, query(target), kind="read", **fields)


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
    scenarios += [
        Scenario("read-draft", "read an invoice: the draft as it is", (200,), lambda t: [read(t)], production=True),
        Scenario(
            "send-then-read",
            "read, send, read: draft becomes sent and updatedAt moves (what reconciliation reads)",
            (200, 200, 200),
            lambda t: [read(t), Call(t.invoice, body(t)), read(t)],
        ),
        Scenario(
            "unavailable-503-then-read",
            "a send answered 503, then a read: still draft, nothing was sent",
            (503, 200),
            lambda t: [Call(t.invoice, body(t), fault="503"), read(t)],
            needs=("faults",),
        ),
        Scenario(
            "read-invalid-token-401",
            "a read with an unknown bearer token",
            (401,),
            lambda t: [read(t, role="invalid")],
            production=True,
        ),
        Scenario(
            "read-foreign-location-403",
            "a sub-account token reading another location's invoice",
            (403,),
            lambda t: [Call(t.foreign[0], query(t, t.foreign[1]), role="location", kind="read")] if t.foreign else [],
            needs=("foreign", "location-token"),
        ),
        Scenario(
            "read-unknown-invoice-404",
            "a read of an invoice id that does not exist",
            (404,),
            lambda t: [read(t, UNKNOWN_INVOICE_ID)],
            production=True,
        ),
        Scenario(
            "read-invalid-query-422",
            "a read without altType: the problem listed",
            (422,),
            lambda t: [Call(t.invoice, {"altId": t.location}, kind="read", raw=True)],
            production=True,
        ),
        Scenario(
            "read-rate-limited-429",
            "a read when the location's burst budget is spent: 429, as for a send",
            (429,),
            lambda t: [read(t, fault="rate-limit")],
            needs=("faults",),
        ),
    ]
    return scenarios


SCENARIOS: dict[str, Scenario] = {s.name: s for s in _scenarios()}
