"""What the send ledger's tests run in worker processes: clients, a reconciler that reads the
sandbox over HTTP, and the worker functions. Kept light (no sandbox import), since `spawn` imports
this module afresh in every worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from leadway_invoices_client import AuthenticatedClient, Outcome, Reconciliation, RetryPolicy, SendLedger
from leadway_invoices_client.models import SendAction, SendInvoiceRequest
from leadway_invoices_client.models.alt_type import AltType

TOKEN = "tok-ledger-7c1e5a90-very-secret-token"
# The sandbox's first seeded location and user (scripts.sandbox.SEED_LOCATIONS[0], SEED_USER_ID) and
# its fault header, spelled out so that workers need not import the sandbox.
LOCATION = "6578278e879ad2646715ba9c"
USER_ID = "6578278e879ad2646715ba9c"
FAULT_HEADER = "X-Sandbox-Fault"
SENDER_NAME, SENDER_EMAIL = "Quillon Sender", "quillon.sender@example.invalid"
FAST_RETRY = RetryPolicy(attempts=2, max_wait=0.05, backoff=0.01)


def invoice_id(index: int) -> str:
    return f"{0x6578278E879AD2646715C000 + index:024x}"


def sms_body(*, sender: bool = False) -> SendInvoiceRequest:
    # SMS: one recipient, so one send is exactly one delivery in the outbox.
    body = SendInvoiceRequest(
        alt_id=LOCATION, alt_type=AltType.LOCATION, user_id=USER_ID, action=SendAction.SMS, live_mode=False
    )
    if sender:
        sent_from = {"fromName": SENDER_NAME, "fromEmail": SENDER_EMAIL}
        body = SendInvoiceRequest.from_dict({**body.to_dict(), "action": "sms_and_email", "sentFrom": sent_from})
    return body


def client(base_url: str, fault: str | None = None, **kwargs: Any) -> AuthenticatedClient:
    kwargs.setdefault("retry", FAST_RETRY)
    return AuthenticatedClient(base_url, TOKEN, headers={FAULT_HEADER: fault} if fault else {}, **kwargs)


class SandboxReconciler:
    """Reads the invoice's status from the sandbox once the grace period after the attempt has
    passed: `sent` is SENT, anything else NOT_SENT (every draft here is sent only by the tests).
    `outcome` forces an answer; `fail` makes it raise. Records the invoice ids it was asked about."""

    def __init__(self, base_url: str, outcome: Outcome | None = None, fail: Exception | None = None) -> None:
        self.base_url, self.outcome, self.fail = base_url, outcome, fail
        self.calls: list[dict[str, Any]] = []

    def _wait(self, attempted_at: Any, grace_period: float) -> float:
        if attempted_at is None:
            return 0.0
        return max(0.0, float(attempted_at.timestamp()) + grace_period - time.time())

    def _found(self, invoice: str, summaries: list[dict[str, Any]]) -> Reconciliation:
        status = next(s["status"] for s in summaries if s["id"] == invoice)
        outcome = self.outcome or (Outcome.SENT if status == "sent" else Outcome.NOT_SENT)
        return Reconciliation(outcome, invoice, f"status {status}", None, None, status, "2023-12-12T09:27:43.355Z", 1)

    def __call__(self, *, invoice_id: str, attempted_at: Any, grace_period: float, **kwargs: Any) -> Reconciliation:
        self.calls.append({"invoice_id": invoice_id, "attempted_at": attempted_at, **kwargs})
        if self.fail is not None:
            raise self.fail
        time.sleep(self._wait(attempted_at, grace_period))
        return self._found(invoice_id, httpx.get(f"{self.base_url}/_sandbox/invoices").json())

    async def asynchronous(
        self, *, invoice_id: str, attempted_at: Any, grace_period: float, **kwargs: Any
    ) -> Reconciliation:
        self.calls.append({"invoice_id": invoice_id, "attempted_at": attempted_at, **kwargs})
        if self.fail is not None:
            raise self.fail
        await asyncio.sleep(self._wait(attempted_at, grace_period))
        async with httpx.AsyncClient() as http:
            summaries = (await http.get(f"{self.base_url}/_sandbox/invoices")).json()
        return self._found(invoice_id, summaries)


@contextmanager
def open_ledger(path: Path | str, base_url: str, grace_period: float = 0.0, **kwargs: Any) -> Iterator[SendLedger]:
    reconciler = SandboxReconciler(base_url)
    kwargs.setdefault("reconciler", reconciler)
    kwargs.setdefault("areconciler", reconciler.asynchronous)
    with SendLedger(path, grace_period=grace_period, **kwargs) as ledger:
        yield ledger


def send_all(
    path: str, base_url: str, keys: list[str], fault: str | None, grace_period: float, real: bool = False
) -> list[tuple[str, str, bool]]:
    """Worker: send each key (`key-N` names invoice N) through one ledger; (key, state, skipped) each.
    `real`: reconcile with the package's own reconciler (reading the invoice) instead of the stand-in."""
    results = []
    ledger_cm = (
        SendLedger(Path(path), grace_period=grace_period) if real else open_ledger(Path(path), base_url, grace_period)
    )
    with ledger_cm as ledger, client(base_url, fault) as http:
        for key in keys:
            record = ledger.send(key, client=http, invoice_id=invoice_id(int(key.split("-")[1])), body=sms_body())
            results.append((record.key, record.state.value, record.skipped))
    return results


class _Parked(httpx.HTTPTransport):
    """A transport that never lets the request out: the worker stays between intent and I/O."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(600)
        return super().handle_request(request)


def park_before_io(path: str, base_url: str, key: str) -> None:
    """Worker: record the intent for `key`, then hang before the request leaves (until killed)."""
    with open_ledger(Path(path), base_url) as ledger:
        http = AuthenticatedClient(base_url, TOKEN, httpx_args={"transport": _Parked()})
        ledger.send(key, client=http, invoice_id=invoice_id(int(key.split("-")[1])), body=sms_body())
