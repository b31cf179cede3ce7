"""Upstream's published Python SDK (`gohighlevel-api-client`, pinned in pyproject.toml's `peer` group)
driven against the sandbox, as its users would call it: what each call returns or raises.

The SDK sends `Version: v3` on every call (its class attribute `API_VERSION`; a per-call header
cannot change it), raises `GHLError` (message, status_code, response) on any status of 400 or more,
and returns the decoded JSON of a 2xx. Its request models are pydantic; httpx cannot send one as is,
so a caller dumps it: `model_dump(exclude_none=True)` is a valid body, a whole `model_dump()` sends
`"sentFrom": null`, which the spec refuses (the last test).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from highlevel import GHLError, HighLevel
from highlevel.services.invoices.models.invoices import SendInvoiceDto

from peer_tests.conftest import Sent
from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    FORBIDDEN_MESSAGE,
    LOCATION_TOKEN,
    OTHER_LOCATION_DRAFT_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    Sandbox,
)

SDK = Callable[[str], HighLevel]
UNKNOWN_INVOICE_ID = "0123456789abcdef01234567"


def send_body(action: str, location: str = SEED_LOCATIONS[0]) -> dict[str, Any]:
    """A send body built with the SDK's own request model, as its README shows, dumped without nulls."""
    model = SendInvoiceDto(altId=location, altType="location", userId=SEED_USER_ID, action=action, liveMode=False)
    body: dict[str, Any] = model.model_dump(exclude_none=True)
    return body


async def raised(call: Any) -> GHLError:
    with pytest.raises(GHLError) as caught:
        await call
    return caught.value


async def test_send_by_email_returns_the_sent_invoice(sdk: SDK, sandbox: Sandbox, sent: Sent) -> None:
    answer = await sdk(DEFAULT_TOKEN).invoices.send_invoice(DRAFT_INVOICE_ID, send_body("email"))

    assert answer["invoice"]["_id"] == DRAFT_INVOICE_ID
    assert answer["invoice"]["status"] == "sent"
    assert [d.channel for d in sandbox.outbox] == ["email"]
    assert [(r.method, r.url.path, r.headers["Version"]) for r in sent] == [
        ("POST", f"/invoices/{DRAFT_INVOICE_ID}/send", "v3")
    ]


async def test_send_by_sms_and_email_delivers_both(sdk: SDK, sandbox: Sandbox) -> None:
    answer = await sdk(DEFAULT_TOKEN).invoices.send_invoice(SECOND_DRAFT_INVOICE_ID, send_body("sms_and_email"))

    assert answer["invoice"]["_id"] == SECOND_DRAFT_INVOICE_ID
    assert answer["invoice"]["status"] == "sent"
    emails = [d.recipient for d in sandbox.outbox if d.channel == "email"]
    texts = [d.recipient for d in sandbox.outbox if d.channel == "sms"]
    assert (answer["emailData"]["to"], [answer["smsData"]["to"]]) == (emails, texts)
    assert emails
    assert texts


async def test_an_unknown_invoice_raises_a_404(sdk: SDK, sandbox: Sandbox) -> None:
    error = await raised(sdk(DEFAULT_TOKEN).invoices.send_invoice(UNKNOWN_INVOICE_ID, send_body("email")))

    assert (error.status_code, error.message) == (404, "Invoice not found")
    assert error.response == {"statusCode": 404, "message": "Invoice not found", "error": "Not Found"}
    assert sandbox.outbox == ()


async def test_a_bad_token_raises_a_401(sdk: SDK, sandbox: Sandbox, sent: Sent) -> None:
    error = await raised(sdk("not-a-sandbox-token").invoices.send_invoice(DRAFT_INVOICE_ID, send_body("email")))

    assert (error.status_code, error.message) == (401, "Invalid token: access token is invalid")
    assert sandbox.outbox == ()
    assert len(sent) == 1  # a static token: the SDK has nothing to refresh, so it does not retry


async def test_a_read_returns_the_invoice_as_it_is_now(sdk: SDK) -> None:
    client = sdk(DEFAULT_TOKEN)
    before = await client.invoices.get_invoice(DRAFT_INVOICE_ID, SEED_LOCATIONS[0], "location")
    await client.invoices.send_invoice(DRAFT_INVOICE_ID, send_body("email"))
    after = await client.invoices.get_invoice(DRAFT_INVOICE_ID, SEED_LOCATIONS[0], "location")

    assert (before["_id"], before["status"]) == (DRAFT_INVOICE_ID, "draft")
    assert (after["_id"], after["status"]) == (DRAFT_INVOICE_ID, "sent")
    assert after["updatedAt"] > before["updatedAt"]


async def test_reading_another_locations_invoice_raises_a_403(sdk: SDK, sent: Sent) -> None:
    # The location token reaches the first seeded location only.
    read = sdk(LOCATION_TOKEN).invoices.get_invoice(OTHER_LOCATION_DRAFT_ID, SEED_LOCATIONS[1], "location")
    error = await raised(read)

    assert (error.status_code, error.message) == (403, FORBIDDEN_MESSAGE)
    assert [(r.method, r.url.params["altId"], r.headers["Version"]) for r in sent] == [("GET", SEED_LOCATIONS[1], "v3")]


async def test_the_sdks_whole_model_dump_is_refused_in_json_words(sdk: SDK, sandbox: Sandbox) -> None:
    model = SendInvoiceDto(
        altId=SEED_LOCATIONS[0], altType="location", userId=SEED_USER_ID, action="email", liveMode=False
    )
    error = await raised(sdk(DEFAULT_TOKEN).invoices.send_invoice(DRAFT_INVOICE_ID, model.model_dump()))

    assert error.status_code == 422
    assert error.response["message"] == [
        'body.sentFrom: null is not of type "object"',
        'body.autoPayment: null is not of type "object"',
    ]
    assert sandbox.outbox == ()


def test_the_sdk_cannot_reach_a_host_that_is_not_loopback() -> None:
    # What keeps a mistake (an SDK client built without the sandbox's URL) off the network.
    assert HighLevel.BASE_URL.startswith("https://services.")
    with pytest.raises(OSError, match="loopback only"):
        __import__("socket").getaddrinfo("services.leadconnectorhq.com", 443)
