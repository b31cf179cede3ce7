"""Settings of one sandbox instance, and the error every bad setting raises."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scripts.project import SPEC_PATH as SPEC_PATH
from scripts.sandbox.auth import DEFAULT_TOKEN, LOCATION_TOKEN, TOKEN_ENV
from scripts.sandbox.faults import FaultError, parse_fault
from scripts.sandbox.json_words import json_text

DEFAULT_PORT = 8765
# The loopback server listed in the spec's `servers`: the sandbox's default address, what cassettes
# show, and where requests are validated as if they arrived, whatever port or test-client host they
# really used.
SPEC_SERVER_URL = f"http://127.0.0.1:{DEFAULT_PORT}"

# Upstream's published limits (per app and location).
DEFAULT_BURST_LIMIT = 100
DEFAULT_BURST_INTERVAL_MS = 10_000
DEFAULT_DAILY_LIMIT = 200_000
# A `slow:SECONDS` fault longer than this is refused: it would only tie the sandbox up.
MAX_SLOW_SECONDS = 30.0


class SandboxError(Exception):
    """Bad input to the sandbox itself (setting, fixture file, port): the message says what and where."""


def _utc_now() -> dt.datetime:
    # A module-level function, not a lambda: a config is pickled into the benchmarks' sandbox process.
    return dt.datetime.now(dt.UTC)


def _token_from_env() -> str:
    # An empty variable is treated as unset: an empty bearer token could never be sent.
    return os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN


@dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox behaves. Every field has the upstream-like default.

    Attributes:
        agency_token: Bearer token reaching every location the sandbox holds. Defaults to
            `$LEADWAY_SANDBOX_TOKEN` when set (read when the config is created), else `DEFAULT_TOKEN`.
        location_token: Bearer token reaching only the first seeded location.
        invoices_file: Optional JSON file of extra invoices loaded after the seed (same shape as
            `seed.json`: `{"invoices": [...]}`, or a bare list).
        burst_limit: Requests allowed per location per burst interval.
        burst_interval_ms: Length of the burst window in milliseconds.
        daily_limit: Requests allowed per location per day.
        clock: Monotonic seconds used by the rate limiter; tests inject a fake one instead of sleeping.
        wall_clock: The time (aware) a send writes into the invoice's `updatedAt`, at least 1 ms later
            than the previous one. Default: the real time, as upstream's. `state.fixed_clock` makes
            answers reproducible (cassettes).
        max_slow_seconds: Upper bound of the `slow:SECONDS` fault.
        faults: Fault per invoice id, in `X-Sandbox-Fault` syntax (`{"<invoiceId>": "html-500"}`): every
            send of that invoice without the header gets it (see `scripts/sandbox/invoice_faults.py`).
        faults_file: Optional JSON file of more such assignments (`--faults FILE`); an invoice may not
            be in both.
        webhook_url: Where each landed send's signed InvoiceSent is delivered (loopback only;
            `scripts/sandbox/webhooks.py`); None delivers none.
        webhook_faults: Webhook fault per invoice id (`dropped`, `delayed:SECONDS`, `duplicated`,
            `out-of-order`).
        webhook_key_file: Where the sandbox writes its TEST-ONLY Ed25519 public key.
    """

    agency_token: str = field(default_factory=_token_from_env)
    location_token: str = LOCATION_TOKEN
    invoices_file: Path | None = None
    burst_limit: int = DEFAULT_BURST_LIMIT
    burst_interval_ms: int = DEFAULT_BURST_INTERVAL_MS
    daily_limit: int = DEFAULT_DAILY_LIMIT
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], dt.datetime] = field(default=_utc_now)
    max_slow_seconds: float = MAX_SLOW_SECONDS
    faults: Mapping[str, str] = field(default_factory=dict)
    faults_file: Path | None = None
    webhook_url: str | None = None
    webhook_faults: Mapping[str, str] = field(default_factory=dict)
    webhook_key_file: Path | None = None

    def __post_init__(self) -> None:
        for name in ("burst_limit", "burst_interval_ms", "daily_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SandboxError(f"{name} must be a positive whole number, got {json_text(value)}")
        for name in ("agency_token", "location_token"):
            token = getattr(self, name)
            if not token or any(c.isspace() for c in token):
                raise SandboxError(f"{name} must be a non-empty token without spaces, got {json_text(token)}")
        if self.agency_token == self.location_token:
            raise SandboxError("the agency token and the location token must differ")
        if not self.max_slow_seconds > 0:
            raise SandboxError(f"max_slow_seconds must be positive, got {json_text(self.max_slow_seconds)}")
        # A private copy: the caller's dict may change after the sandbox started (and a dict pickles,
        # for a sandbox in another process).
        object.__setattr__(self, "faults", dict(self.faults))
        for invoice_id, value in self.faults.items():
            if not isinstance(invoice_id, str) or not isinstance(value, str):
                raise SandboxError(
                    f"faults: expected invoice id -> fault string, got {json_text(invoice_id)}: {json_text(value)}"
                )
            try:
                parse_fault(value, self.max_slow_seconds)
            except FaultError as exc:
                raise SandboxError(f"faults: invoice {json_text(invoice_id)}: {exc}") from None
