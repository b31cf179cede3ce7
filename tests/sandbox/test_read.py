"""`GET /invoices/{invoiceId}`: what a read answers, how a send changes it, and the `delayed-send` fault."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from openapi_core import OpenAPI
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    FAULT_HEADER,
    LOCATION_TOKEN,
    OTHER_LOCATION_DRAFT_ID,
    SEED_LOCATIONS,
    Sandbox,
    SandboxConfig,
    create_app,
    serve_in_thread,
)
from tests.sandbox.conftest import FakeClock, assert_conforms, auth, send_body

READ = f"/invoices/{DRAFT_INVOICE_ID}"
SEND = f"/invoices/{DRAFT_INVOICE_ID}/send"
HERE = {"altId": SEED_LOCATIONS[0], "altType": "location"}


async def test_a_read_answers_the_invoice_as_the_spec_says(client: httpx.AsyncClient, openapi: OpenAPI) -> None:
    response = await client.get(READ, params=HERE, headers=auth())

    assert response.status_code == 200
    assert response.json()["_id"] == DRAFT_INVOICE_ID
    assert response.json()["status"] == "draft"
    assert "sentAt" not in response.json()
    assert_conforms(openapi, response)


async def test_a_send_changes_status_and_updated_at(client: httpx.AsyncClient, openapi: OpenAPI) -> None:
    before = (await client.get(READ, params=HERE, headers=auth())).json()
    assert (await client.post(SEND, json=send_body(), headers=auth())).status_code == 200
    after = await client.get(READ, params=HERE, headers=auth())

    assert (before["status"], after.json()["status"]) == ("draft", "sent")
    assert after.json()["updatedAt"] > before["updatedAt"]
    assert "sentAt" not in after.json()
    assert_conforms(openapi, after)


@pytest.mark.parametrize(
    ("path", "params", "token", "status"),
    [
        (READ, HERE, None, 401),
        (READ, HERE, "not-a-sandbox-token", 401),
        (
            f"/invoices/{OTHER_LOCATION_DRAFT_ID}",
            {"altId": SEED_LOCATIONS[1], "altType": "location"},
            LOCATION_TOKEN,
            403,
        ),
        (READ, {"altId": SEED_LOCATIONS[1], "altType": "location"}, LOCATION_TOKEN, 403),
        ("/invoices/6578278e879ad2646715ffff", HERE, DEFAULT_TOKEN, 404),
        (READ, {"altId": SEED_LOCATIONS[1], "altType": "location"}, DEFAULT_TOKEN, 404),
        (READ, {"altId": SEED_LOCATIONS[0]}, DEFAULT_TOKEN, 422),
        (READ, {"altId": SEED_LOCATIONS[0], "altType": "galaxy"}, DEFAULT_TOKEN, 422),
        (READ, {"altType": "location"}, DEFAULT_TOKEN, 422),
        ("/invoices/not-an-id", HERE, DEFAULT_TOKEN, 422),
    ],
)
async def test_a_read_is_refused_like_a_send(
    client: httpx.AsyncClient,
    openapi: OpenAPI,
    path: str,
    params: dict[str, str],
    token: str | None,
    status: int,
) -> None:
    headers = auth(token) if token is not None else {"Version": "2021-07-28"}
    response = await client.get(path, params=params, headers=headers)

    assert response.status_code == status, response.text
    assert_conforms(openapi, response)


async def test_a_duplicated_alt_id_is_a_422(client: httpx.AsyncClient) -> None:
    query = f"altId={SEED_LOCATIONS[0]}&altId={SEED_LOCATIONS[1]}&altType=location"
    response = await client.get(f"{READ}?{query}", headers=auth())

    assert response.status_code == 422
    assert response.json()["message"] == ["query parameter altId: given more than once"]


async def test_reads_count_in_the_bucket_of_the_locations_sends(clock: FakeClock) -> None:
    app = create_app(SandboxConfig(clock=clock, burst_limit=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        assert (await client.post(SEND, json=send_body(), headers=auth())).status_code == 200
        first = await client.get(READ, params=HERE, headers=auth())
        second = await client.get(READ, params=HERE, headers=auth())
        refused = await client.get(READ, params=HERE, headers=auth())
        send_refused = await client.post(SEND, json=send_body(), headers=auth())
        other = await client.get(
            f"/invoices/{OTHER_LOCATION_DRAFT_ID}",
            params={"altId": SEED_LOCATIONS[1], "altType": "location"},
            headers=auth(),
        )

    assert [first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]] == ["1", "0"]
    assert (refused.status_code, send_refused.status_code) == (429, 429)
    assert other.status_code == 200  # another location, another bucket


@pytest.mark.parametrize(("fault", "status"), [("503", 503), ("html-500", 500), ("rate-limit", 429)])
async def test_header_faults_apply_to_a_read(client: httpx.AsyncClient, fault: str, status: int) -> None:
    response = await client.get(READ, params=HERE, headers=auth(**{FAULT_HEADER: fault}))

    assert response.status_code == status


async def test_delayed_send_is_refused_on_a_read(client: httpx.AsyncClient) -> None:
    response = await client.get(READ, params=HERE, headers=auth(**{FAULT_HEADER: "delayed-send:1"}))

    assert response.status_code == 400
    assert "delayed-send applies to a send only" in response.json()["message"]


async def test_a_fault_assigned_to_the_invoice_does_not_touch_its_reads(app: Starlette) -> None:
    # The bulk command's invoices fault by assignment; reconciliation must still read them.
    sandbox: Sandbox = app.state.sandbox
    sandbox.faults.assign(DRAFT_INVOICE_ID, "503")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        sent = await client.post(SEND, json=send_body(), headers=auth())
        read = await client.get(READ, params=HERE, headers=auth())

    assert (sent.status_code, read.status_code) == (503, 200)


def test_delayed_send_loses_the_answer_and_lands_later(served: httpx.Client, sandbox: Sandbox) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        served.post(SEND, json=send_body(), headers=auth(**{FAULT_HEADER: "delayed-send:0.5"}))

    # The answer is lost and nothing has landed yet...
    assert sandbox.state.deliveries_for(DRAFT_INVOICE_ID) == ()
    assert served.get(READ, params=HERE, headers=auth()).json()["status"] == "draft"
    # ...then the send lands, over the server's own loop.
    deadline = time.monotonic() + 10
    while not sandbox.state.deliveries_for(DRAFT_INVOICE_ID) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [d.channel for d in sandbox.state.deliveries_for(DRAFT_INVOICE_ID)] == ["email", "sms"]
    assert served.get(READ, params=HERE, headers=auth()).json()["status"] == "sent"


def test_a_delayed_send_does_not_land_after_a_reset(served: httpx.Client, sandbox: Sandbox) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        served.post(SEND, json=send_body(), headers=auth(**{FAULT_HEADER: "delayed-send:0.2"}))
    sandbox.reset()
    time.sleep(0.6)

    assert sandbox.outbox == ()
    assert served.get(READ, params=HERE, headers=auth()).json()["status"] == "draft"


def test_an_invalid_delayed_send_is_answered_at_once(served: httpx.Client, sandbox: Sandbox) -> None:
    response = served.post(SEND, json=send_body(action="fax"), headers=auth(**{FAULT_HEADER: "delayed-send:0.1"}))

    assert response.status_code == 422
    time.sleep(0.3)
    assert sandbox.outbox == ()


def test_by_default_updated_at_is_the_real_time() -> None:
    # Upstream's updatedAt is a real time, later than the send: reconciliation compares them.
    app = create_app()
    started = dt.datetime.now(dt.UTC)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=5) as client:
        assert client.post(SEND, json=send_body(), headers=auth()).status_code == 200
        stamp = client.get(READ, params=HERE, headers=auth()).json()["updatedAt"]

    assert dt.datetime.fromisoformat(stamp) >= started.replace(microsecond=started.microsecond // 1000 * 1000)


@pytest.mark.parametrize("version", ["2021-07-28", "v3", "2023-02-21"])
async def test_a_read_is_served_on_every_accepted_version(
    client: httpx.AsyncClient, openapi: OpenAPI, version: str
) -> None:
    response = await client.get(READ, params=HERE, headers=auth(Version=version))

    assert response.status_code == 200
    assert response.json()["_id"] == DRAFT_INVOICE_ID
    assert_conforms(openapi, response)


async def test_a_read_with_another_version_gets_422(client: httpx.AsyncClient, openapi: OpenAPI) -> None:
    response = await client.get(READ, params=HERE, headers=auth(Version="v4"))

    assert response.status_code == 422
    assert response.json()["message"] == [
        'header parameter Version: "v4" is not one of ["2021-07-28", "v3", "2023-02-21"]'
    ]
    assert_conforms(openapi, response)
