"""The contract suite against a real API: explicit opt-in, hard limits, and a guard on every request.

Opt-in takes a flag naming the target plus the ids of a test invoice, and for any non-loopback
target a token in the environment:

    LEADWAY_CONTRACT_TOKEN=... scripts/nox -s contract -- -k live \\
        --contract-live-url=https://services.leadconnectorhq.com \\
        --contract-invoice-id=ID --contract-location-id=ID --contract-user-id=ID [--contract-max-requests=20]

What it sends: schemathesis cases (positive and negative) generated from a copy of the spec in which
`liveMode` is `false`, `altId`, `userId` and the invoice id are the ones given. Negative generation
may still break those fields, so `LiveSender` checks every request before it leaves: POST to exactly
`/invoices/<invoice>/send` on the target host, a JSON object body with `liveMode: false` and the
given `altId`. Anything else is skipped, never sent. It stops at `max_requests`, keeps at least
`min_interval` seconds between requests, waits out the burst window when the API says few requests
are left, and stops at the first 429.

Test mode still delivers: each accepted send emails and/or texts the test invoice's contact.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from leadway_invoices_client import RateLimit
from leadway_invoices_client._runtime.guard import InvoiceTarget, TargetRefused, check_invoice_target, is_loopback
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup

from contract_tests import CONTRACT_TOKEN_ENV
from contract_tests.exchanges import SINGLE_POST_CHECKS
from scripts.sandbox import SEND_PATH, load_spec

# Upstream allows 100 requests per 10 s burst; more than this per run is never needed.
MAX_REQUESTS_LIMIT = 100
# Below this many requests left in the burst window, wait for the next window.
RESERVE = 10

# The single-POST checks that judge a response without sending anything else. ignored_auth is left
# out: it probes with extra unauthenticated requests the cap and guard would have to count.
LIVE_CHECKS = [check for check in SINGLE_POST_CHECKS if check is not checks.ignored_auth]


class LiveModeRefused(Exception):
    """Live mode was asked for but cannot run safely; the message says what is missing."""


class UnsafeRequest(Exception):
    """A generated request that must not be sent to a real API (it is skipped, not sent)."""


@dataclass(frozen=True)
class LiveTarget(InvoiceTarget):
    """The guarded `Target`, and how many requests the run may send it."""

    max_requests: int

    @classmethod
    def from_options(
        cls,
        url: str | None,
        *,
        invoice_id: str | None,
        location_id: str | None,
        user_id: str | None,
        max_requests: int,
        environ: Mapping[str, str] = os.environ,
        loopback_token: str | None = None,
    ) -> LiveTarget | None:
        """None when live mode was not asked for; LiveModeRefused when it was, but not safely."""
        if url is None:
            return None
        host = urlsplit(url).hostname
        token = environ.get(CONTRACT_TOKEN_ENV) or (loopback_token if host and is_loopback(host) else None)
        try:
            target = check_invoice_target(
                url,
                token,
                who="live mode",
                token_env=CONTRACT_TOKEN_ENV,
                environ=environ,
                ids={
                    "--contract-invoice-id": invoice_id,
                    "--contract-location-id": location_id,
                    "--contract-user-id": user_id,
                },
            )
        except TargetRefused as exc:
            raise LiveModeRefused(str(exc)) from None
        if not 1 <= max_requests <= MAX_REQUESTS_LIMIT:
            raise LiveModeRefused(f"--contract-max-requests must be between 1 and {MAX_REQUESTS_LIMIT}")
        return cls(target.base_url, target.token, target.invoice_id, target.location_id, target.user_id, max_requests)


def live_schema(target: LiveTarget) -> Any:
    """The spec with the request pinned to the target's invoice, location and user, and test mode."""
    spec = copy.deepcopy(load_spec())
    schemas = spec["components"]["schemas"]
    request = schemas["SendInvoiceRequest"]
    request["properties"]["liveMode"] = {"const": False}
    request["properties"]["altId"] = {"const": target.location_id}
    request["properties"]["userId"] = {"const": target.user_id}
    request["properties"]["altType"] = {"const": "location"}
    spec["components"]["parameters"]["InvoiceId"]["schema"] = {"const": target.invoice_id}
    spec["servers"] = [{"url": target.base_url}]
    return schemathesis.openapi.from_dict(spec)


@dataclass
class LiveSender:
    """Sends guarded requests to the target: capped, paced, stopping at the first 429."""

    target: LiveTarget
    transport: httpx.BaseTransport | None = None
    min_interval: float = 0.5  # at most 20 requests per 10 s, a fifth of the upstream burst limit
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    sent: int = 0
    rate_limited: bool = False
    _last: float | None = None
    _wait_next: float = 0.0

    def check(self, kwargs: Mapping[str, Any]) -> None:
        """Raise UnsafeRequest unless this is a test-mode send of the target's own invoice."""
        url = urlsplit(kwargs["url"])
        if kwargs["method"].upper() != "POST":
            raise UnsafeRequest(f"method {kwargs['method']}")
        if url.netloc != self.target.host or url.scheme != urlsplit(self.target.base_url).scheme:
            raise UnsafeRequest(f"host {url.netloc}")
        if url.path != SEND_PATH.replace("{invoiceId}", self.target.invoice_id) or url.query:
            raise UnsafeRequest("another invoice or path")
        body = kwargs.get("json")
        if "data" in kwargs or not isinstance(body, dict):
            raise UnsafeRequest("the body is not a JSON object, so test mode cannot be confirmed")
        if body.get("liveMode") is not False:
            raise UnsafeRequest("liveMode is not false")
        if body.get("altId") != self.target.location_id:
            raise UnsafeRequest("altId is not the given location")

    def send(self, case: Any) -> httpx.Response:
        kwargs = case.as_transport_kwargs(
            base_url=self.target.base_url, headers={"Authorization": f"Bearer {self.target.token}"}
        )
        self.check(kwargs)
        if self.rate_limited:
            raise LiveModeRefused("the API answered 429: no more requests in this run")
        if self.sent >= self.target.max_requests:
            raise LiveModeRefused(f"the cap of {self.target.max_requests} requests is reached")
        self._pace()
        headers = {k: v for k, v in kwargs["headers"].items() if k.lower() != "x-schemathesis-testcaseid"}
        with httpx.Client(transport=self.transport, timeout=30) as client:
            self.sent += 1
            self._last = self.clock()
            response = client.request(kwargs["method"], kwargs["url"], headers=headers, json=kwargs["json"])
        self._note_limits(response)
        return response

    def _pace(self) -> None:
        if self._last is None:
            return
        wait = max(self._wait_next, self._last + self.min_interval - self.clock())
        if wait > 0:
            self.sleep(wait)
        self._wait_next = 0.0

    def _note_limits(self, response: httpx.Response) -> None:
        if response.status_code == 429:
            self.rate_limited = True
            return
        # The client's own reader of wire facts: ASCII digits only, the interval capped.
        limit = RateLimit.from_headers(response.headers)
        if limit.remaining is not None and limit.remaining <= RESERVE:
            self._wait_next = limit.interval if limit.interval is not None else 10.0


def draw_cases(strategy: Any, count: int) -> list[Any]:
    """`count` cases from a schemathesis strategy, derandomized, generated before anything is sent."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    collect()
    return drawn[:count]


@dataclass
class LiveReport:
    sent: int = 0
    skipped: list[str] = field(default_factory=list)  # why each unsafe case was not sent
    failures: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run ended early


def run_live(target: LiveTarget, sender: LiveSender) -> LiveReport:
    """Send positive then negative cases (half the cap each) and check every answer."""
    operation = live_schema(target)[SEND_PATH]["POST"]
    half = max(1, target.max_requests // 2)
    cases = draw_cases(operation.as_strategy(generation_mode=GenerationMode.POSITIVE), half)
    # Negative cases are drawn generously: those that break liveMode, altId or the path are skipped.
    cases += draw_cases(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), 10 * half)
    report = LiveReport()
    for case in cases:
        try:
            response = sender.send(case)
        except UnsafeRequest as exc:
            report.skipped.append(str(exc))
            continue
        except LiveModeRefused as exc:
            report.stopped = str(exc)
            break
        try:
            case.validate_response(response, checks=LIVE_CHECKS)
        except FailureGroup as exc:
            report.failures += [f"{type(f).__name__}: {getattr(f, 'title', f)}" for f in exc.exceptions]
    report.sent = sender.sent
    return report
