"""Where the contract cassettes are recorded: the local sandbox, or production on explicit opt-in,
with the ids and tokens each target's scenarios use."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from leadway_invoices_client._runtime.constants import PRODUCTION_URL
from leadway_invoices_client._runtime.guard import TargetRefused, check_invoice_target

from contract_tests import CONTRACT_TOKEN_ENV
from scripts.sandbox import SPEC_SERVER_URL as SANDBOX_URL

INVALID_TOKEN = "invalid-token-for-contract-recording"


class RecordingError(Exception):
    """A scenario did not behave as it should, or recording was refused; the message says why."""


@dataclass(frozen=True)
class RecordingTarget:
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


def sandbox_target() -> RecordingTarget:
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
    return RecordingTarget(
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
) -> RecordingTarget:
    try:
        api = check_invoice_target(
            base_url,
            token,
            who="recording against production",
            token_env=CONTRACT_TOKEN_ENV,
            ids={"--invoice-id": invoice, "--location-id": location, "--user-id": user},
        )
    except TargetRefused as exc:
        raise RecordingError(str(exc)) from None
    # Stricter than the guard: a production token never goes over plain http, not even to loopback.
    if urlsplit(api.base_url).scheme != "https":
        raise RecordingError(f"refusing to send a production token over {base_url!r}: https only")
    return RecordingTarget(
        name="production",
        base_url=api.base_url,
        tokens={"agency": api.token, "invalid": INVALID_TOKEN},
        invoice=api.invoice_id,
        location=api.location_id,
        user=api.user_id,
    )
