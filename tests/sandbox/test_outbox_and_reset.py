"""The outbox, the invoice listing and reset: over HTTP and in-process."""

from __future__ import annotations

import httpx

from scripts.sandbox import (
    DRAFT_INVOICE_ID,
    OTHER_LOCATION_DRAFT_ID,
    PAID_INVOICE_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    VOID_INVOICE_ID,
    Delivery,
    Sandbox,
    create_app,
)
from tests.sandbox.conftest import auth, send_body


async def test_outbox_records_each_delivery_with_channel_and_recipient(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await client.post(f"/invoices/{SECOND_DRAFT_INVOICE_ID}/send", json=send_body(liveMode=True), headers=auth())

    assert sandbox.outbox == (
        Delivery(1, SECOND_DRAFT_INVOICE_ID, "20", SEED_LOCATIONS[0], "email", "jordan@example.com", True),
        Delivery(2, SECOND_DRAFT_INVOICE_ID, "20", SEED_LOCATIONS[0], "email", "billing@example.com", True),
        Delivery(3, SECOND_DRAFT_INVOICE_ID, "20", SEED_LOCATIONS[0], "sms", "+1-214-555-0120", True),
    )
    listed = (await client.get("/_sandbox/outbox")).json()
    assert listed[0] == {
        "sequence": 1,
        "invoiceId": SECOND_DRAFT_INVOICE_ID,
        "invoiceNumber": "20",
        "locationId": SEED_LOCATIONS[0],
        "channel": "email",
        "recipient": "jordan@example.com",
        "liveMode": True,
    }
    assert len(listed) == 3


async def test_outbox_counts_deliveries_per_invoice(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(action="email"), headers=auth())
    await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(action="email"), headers=auth())
    other = send_body(altId=SEED_LOCATIONS[1], action="sms")
    await client.post(f"/invoices/{OTHER_LOCATION_DRAFT_ID}/send", json=other, headers=auth())

    assert len(sandbox.state.deliveries_for(DRAFT_INVOICE_ID)) == 2
    assert len(sandbox.state.deliveries_for(OTHER_LOCATION_DRAFT_ID)) == 1
    filtered = (await client.get("/_sandbox/outbox", params={"invoiceId": DRAFT_INVOICE_ID})).json()
    assert [d["channel"] for d in filtered] == ["email", "email"]


async def test_failed_sends_deliver_nothing(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.post(f"/invoices/{PAID_INVOICE_ID}/send", json=send_body(), headers=auth())
    await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body())
    await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(action="fax"), headers=auth())

    assert sandbox.outbox == ()
    assert (await client.get("/_sandbox/outbox")).json() == []


async def test_invoice_listing_shows_the_seed(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/_sandbox/invoices")).json()

    by_id = {i["id"]: i for i in listed}
    assert len(listed) == 6
    assert {i["location"] for i in listed} == set(SEED_LOCATIONS)
    assert [i["status"] for i in listed].count("draft") == 4
    assert by_id[PAID_INVOICE_ID]["status"] == "paid"
    assert by_id[VOID_INVOICE_ID] == {
        "id": VOID_INVOICE_ID,
        "location": SEED_LOCATIONS[1],
        "status": "void",
        "invoiceNumber": "1000",
    }


async def test_reset_restores_the_seed_and_empties_the_outbox(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    seed = (await client.get("/_sandbox/invoices")).json()
    await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth())
    assert (await client.get("/_sandbox/invoices")).json() != seed

    response = await client.post("/_sandbox/reset")

    assert response.json() == {"invoices": 6, "outbox": 0}
    assert (await client.get("/_sandbox/invoices")).json() == seed
    assert sandbox.outbox == ()


async def test_in_process_reset_is_the_same_reset(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth())

    sandbox.reset()

    assert sandbox.outbox == ()
    assert {i["id"]: i["status"] for i in sandbox.invoices}[DRAFT_INVOICE_ID] == "draft"


def test_each_app_has_its_own_state(sandbox: Sandbox) -> None:
    other: Sandbox = create_app().state.sandbox
    grant = sandbox.tokens.grant_for(sandbox.config.agency_token)
    assert grant is not None

    sandbox.state.send(DRAFT_INVOICE_ID, send_body(), grant)

    assert len(sandbox.outbox) == 2
    assert other.outbox == ()
