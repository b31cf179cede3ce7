"""`scripts/sandbox/webhooks.py`: a signed InvoiceSent after each send that lands, retried only on
429, with faults per invoice (dropped, delayed, duplicated, out of order)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadway_invoices_client.webhooks import verify_webhook

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    SandboxConfig,
    SandboxError,
    create_app,
    serve_in_thread,
)
from scripts.sandbox.webhooks import parse_webhook_fault


class Collector:
    """A webhook endpoint: answers the scripted statuses (the last repeats), keeps what came."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append((body, {k.decode(): v.decode() for k, v in scope["headers"]}))
        status = self.statuses[min(len(self.received), len(self.statuses)) - 1]
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def ids(self) -> list[str]:
        return [json.loads(body)["webhookId"] for body, _ in self.received]

    def invoices(self) -> list[str]:
        return [json.loads(body)["_id"] for body, _ in self.received]


def _send(base_url: str, invoice_id: str) -> None:
    body = {
        "altId": SEED_LOCATIONS[0],
        "altType": "location",
        "userId": SEED_USER_ID,
        "action": "email",
        "liveMode": False,
    }
    answer = httpx.post(
        f"{base_url}/invoices/{invoice_id}/send",
        json=body,
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}", "Version": "2021-07-28"},
    )
    assert answer.status_code == 200


def _run(collector: Collector, tmp_path: Path, faults: dict[str, str], sends: list[str], count: int) -> Any:
    """Send `sends` through a sandbox delivering to `collector`, until `count` deliveries came (then a
    little longer, to see that no more come)."""
    with serve_in_thread(collector) as hook_url:
        config = SandboxConfig(webhook_url=hook_url, webhook_faults=faults, webhook_key_file=tmp_path / "k.pem")
        app = create_app(config)
        with serve_in_thread(app) as base_url:
            for invoice_id in sends:
                _send(base_url, invoice_id)
            deadline = time.monotonic() + 10
            while len(collector.received) < count and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.1)
        return app.state.sandbox.webhooks


def test_each_send_is_delivered_signed_with_the_test_key_written_for_the_receiver(tmp_path: Path) -> None:
    collector = Collector()
    sender = _run(collector, tmp_path, {}, [DRAFT_INVOICE_ID], 1)
    [(body, headers)] = collector.received
    key = (tmp_path / "k.pem").read_text()
    event = verify_webhook(body, headers, ed25519_key=key)
    assert (event.id, event.type_, event.status) == (DRAFT_INVOICE_ID, "InvoiceSent", "sent")
    assert sender.delivered == [event.webhook_id]


def test_a_delivery_is_retried_on_429_only(tmp_path: Path) -> None:
    retried = Collector(429, 429, 200)
    _run(retried, tmp_path, {}, [DRAFT_INVOICE_ID], 3)
    assert len(set(retried.ids())) == 1
    assert len(retried.ids()) == 3
    lost = Collector(500)
    sender = _run(lost, tmp_path, {}, [DRAFT_INVOICE_ID], 1)
    assert len(lost.received) == 1
    assert sender.lost == lost.ids()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("dropped", [SECOND_DRAFT_INVOICE_ID]),
        ("duplicated", [DRAFT_INVOICE_ID, DRAFT_INVOICE_ID, SECOND_DRAFT_INVOICE_ID]),
        ("out-of-order", [SECOND_DRAFT_INVOICE_ID, DRAFT_INVOICE_ID]),
        ("delayed:0.5", [SECOND_DRAFT_INVOICE_ID, DRAFT_INVOICE_ID]),
    ],
)
def test_faults_per_invoice(tmp_path: Path, fault: str, expected: list[str]) -> None:
    collector = Collector()
    sends = [DRAFT_INVOICE_ID, SECOND_DRAFT_INVOICE_ID]
    _run(collector, tmp_path, {DRAFT_INVOICE_ID: fault}, sends, len(expected))
    if fault == "duplicated":  # the two deliveries of one event race the other event's
        assert Counter(collector.invoices()) == Counter(expected)
        first, second = (body for body, _ in collector.received if json.loads(body)["_id"] == DRAFT_INVOICE_ID)
        assert first == second
    else:
        assert collector.invoices() == expected


def test_bad_faults_and_urls_off_the_machine_are_refused() -> None:
    with pytest.raises(SandboxError, match="unknown webhook fault"):
        parse_webhook_fault("lost")
    with pytest.raises(SandboxError, match="from 0 to 300"):
        parse_webhook_fault("delayed:301")
    with pytest.raises(SandboxError, match="loopback"):
        create_app(SandboxConfig(webhook_url="https://example.com/hook"))
