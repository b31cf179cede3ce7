"""Every status path of `POST /invoices/{invoiceId}/send`, in-process, each answer checked against the spec."""

from __future__ import annotations

import httpx
import pytest
from openapi_core import OpenAPI

from scripts.sandbox import (
    DRAFT_INVOICE_ID,
    FORBIDDEN_MESSAGE,
    LOCATION_TOKEN,
    OTHER_LOCATION_DRAFT_ID,
    PAID_INVOICE_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    VOID_INVOICE_ID,
    Sandbox,
)
from tests.sandbox.conftest import assert_conforms, auth, send_body

UNKNOWN_INVOICE_ID = "0123456789abcdef01234567"


def url(invoice_id: str) -> str:
    return f"/invoices/{invoice_id}/send"


async def test_success_marks_the_invoice_sent_and_reports_both_channels(
    client: httpx.AsyncClient, sandbox: Sandbox, openapi: OpenAPI
) -> None:
    before = sandbox.state.invoice(DRAFT_INVOICE_ID)
    assert before is not None
    assert before["status"] == "draft"

    response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(liveMode=True), headers=auth())

    assert response.status_code == 200
    assert_conforms(openapi, response)
    data = response.json()
    assert data["invoice"]["_id"] == DRAFT_INVOICE_ID
    assert data["invoice"]["status"] == "sent"
    assert data["invoice"]["liveMode"] is True
    assert data["invoice"]["invoiceNumber"] == before["invoiceNumber"]
    assert data["emailData"]["to"] == ["alex@example.com"]
    assert data["smsData"]["to"] == "+1-214-559-6993"
    after = sandbox.state.invoice(DRAFT_INVOICE_ID)
    assert after is not None
    assert after["status"] == "sent"


@pytest.mark.parametrize(
    ("action", "email", "sms"),
    [("email", True, False), ("sms", False, True), ("sms_and_email", True, True), ("send_manually", False, False)],
)
async def test_email_and_sms_data_reflect_the_action(
    client: httpx.AsyncClient, sandbox: Sandbox, action: str, email: bool, sms: bool
) -> None:
    response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(action=action), headers=auth())

    assert response.status_code == 200
    data = response.json()
    assert bool(data["emailData"]) is email
    assert bool(data["smsData"]) is sms
    assert data["invoice"]["status"] == "sent"
    assert sorted(d.channel for d in sandbox.outbox) == sorted(["email"] * email + ["sms"] * sms)


async def test_both_alt_types_are_accepted(client: httpx.AsyncClient) -> None:
    for alt_type in ("location", "account"):
        response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(altType=alt_type), headers=auth())
        assert response.status_code == 200, response.text


async def test_sent_from_names_the_sender(client: httpx.AsyncClient) -> None:
    body = send_body(action="email", sentFrom={"fromName": "Billing", "fromEmail": "billing@shop.example"})
    response = await client.post(url(DRAFT_INVOICE_ID), json=body, headers=auth())

    assert response.json()["emailData"]["fromName"] == "Billing"
    assert response.json()["emailData"]["fromEmail"] == "billing@shop.example"


@pytest.mark.parametrize(
    ("invoice_id", "message"),
    [
        (VOID_INVOICE_ID, "Invoice is void and cannot be sent"),
        (PAID_INVOICE_ID, "Invoice is already paid and cannot be sent"),
    ],
)
async def test_void_and_paid_invoices_are_refused_with_400(
    client: httpx.AsyncClient, sandbox: Sandbox, openapi: OpenAPI, invoice_id: str, message: str
) -> None:
    invoice = sandbox.state.invoice(invoice_id)
    assert invoice is not None
    body = send_body(altId=invoice["altId"])

    response = await client.post(url(invoice_id), json=body, headers=auth())

    assert response.status_code == 400
    assert_conforms(openapi, response)
    assert response.json() == {"statusCode": 400, "message": message, "error": "Bad Request"}
    assert sandbox.outbox == ()
    after = sandbox.state.invoice(invoice_id)
    assert after is not None
    assert after["status"] == invoice["status"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Version": "2021-07-28"}, id="missing"),
        pytest.param({"Authorization": "Basic c2FuZGJveDpzYW5kYm94", "Version": "2021-07-28"}, id="basic"),
        pytest.param({"Authorization": "Bearer", "Version": "2021-07-28"}, id="no-token"),
        pytest.param({"Authorization": "Bearer ", "Version": "2021-07-28"}, id="empty-token"),
        pytest.param({"Authorization": "Bearer not-a-sandbox-token", "Version": "2021-07-28"}, id="unknown-token"),
    ],
)
async def test_missing_or_malformed_bearer_gets_401(
    client: httpx.AsyncClient, sandbox: Sandbox, openapi: OpenAPI, headers: dict[str, str]
) -> None:
    response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(), headers=headers)

    assert response.status_code == 401
    assert_conforms(openapi, response)
    assert response.json()["error"] == "Unauthorized"
    assert sandbox.outbox == ()


async def test_auth_is_checked_before_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(url("not-an-id"), json={"bogus": True}, headers={"Version": "2021-07-28"})

    assert response.status_code == 401


async def test_location_token_gets_403_outside_its_location(
    client: httpx.AsyncClient, sandbox: Sandbox, openapi: OpenAPI
) -> None:
    body = send_body(altId=SEED_LOCATIONS[1])

    response = await client.post(url(OTHER_LOCATION_DRAFT_ID), json=body, headers=auth(LOCATION_TOKEN))

    assert response.status_code == 403
    assert_conforms(openapi, response)
    assert response.json() == {"statusCode": 403, "message": FORBIDDEN_MESSAGE, "error": "Forbidden"}
    assert sandbox.outbox == ()


async def test_location_token_gets_403_even_when_naming_its_own_location(client: httpx.AsyncClient) -> None:
    # altId is the token's location, but the invoice lives in the other one.
    response = await client.post(url(OTHER_LOCATION_DRAFT_ID), json=send_body(), headers=auth(LOCATION_TOKEN))

    assert response.status_code == 403


async def test_location_token_sends_in_its_own_location(client: httpx.AsyncClient) -> None:
    response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(), headers=auth(LOCATION_TOKEN))

    assert response.status_code == 200


async def test_unknown_invoice_gets_404(client: httpx.AsyncClient, openapi: OpenAPI) -> None:
    response = await client.post(url(UNKNOWN_INVOICE_ID), json=send_body(), headers=auth())

    assert response.status_code == 404
    assert_conforms(openapi, response)
    assert response.json() == {"statusCode": 404, "message": "Invoice not found", "error": "Not Found"}


async def test_invoice_of_another_location_than_alt_id_gets_404(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.post(url(OTHER_LOCATION_DRAFT_ID), json=send_body(), headers=auth())

    assert response.status_code == 404
    assert sandbox.outbox == ()


async def test_spec_violations_get_422_listing_every_message(
    client: httpx.AsyncClient, sandbox: Sandbox, openapi: OpenAPI
) -> None:
    body = send_body(altId="", altType="company", liveMode="yes", extra=1)
    del body["action"]

    response = await client.post(url("abc"), json=body, headers={"Authorization": auth()["Authorization"]})

    assert response.status_code == 422
    assert_conforms(openapi, response)
    data = response.json()
    assert data["statusCode"] == 422
    assert data["error"] == "Unprocessable Entity"
    assert data["message"] == [
        "Missing required header parameter: Version",
        'path parameter invoiceId: "abc" does not match "^[0-9a-fA-F]{24}$"',
        'body: Additional properties are not allowed ("extra" was unexpected)',
        'body: "action" is a required property',
        'body.altId: "" should be non-empty',
        'body.altType: "company" is not one of ["location", "account"]',
        'body.liveMode: "yes" is not of type "boolean"',
    ]
    assert sandbox.outbox == ()


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "body: cannot be read as application/json"),
        (b"\x80\x81", "application/json", "body: cannot be read as application/json"),
        (b"altId=x", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        (b"", "application/json", "Missing required request body"),
        (b"[" * 100_000, "application/json", "body: JSON nested too deeply to read"),
    ],
)
async def test_unreadable_bodies_get_422(
    client: httpx.AsyncClient, content: bytes, content_type: str, message: str
) -> None:
    headers = auth(**{"Content-Type": content_type})
    response = await client.post(url(DRAFT_INVOICE_ID), content=content, headers=headers)

    assert response.status_code == 422
    assert any(message in line for line in response.json()["message"]), response.json()


# Upstream documents 2021-07-28 (apps/invoices.json) and v3 (apps/v3/invoices-v3.json); its Python SDK
# sends v3, its TypeScript SDK 2023-02-21 (in no upstream document): all three are served.
ACCEPTED_VERSIONS = ["2021-07-28", "v3", "2023-02-21"]


@pytest.mark.parametrize("version", ACCEPTED_VERSIONS)
async def test_every_version_upstream_or_its_sdks_send_is_served(
    client: httpx.AsyncClient, openapi: OpenAPI, version: str
) -> None:
    response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(), headers=auth(Version=version))

    assert response.status_code == 200, response.json()
    assert response.json()["invoice"]["status"] == "sent"
    assert_conforms(openapi, response)


@pytest.mark.parametrize("version", ["2020-01-01", "V3", "v2", "2023-02-21 "])
async def test_any_other_version_gets_422_naming_the_accepted_ones(
    client: httpx.AsyncClient, openapi: OpenAPI, sandbox: Sandbox, version: str
) -> None:
    response = await client.post(url(DRAFT_INVOICE_ID), json=send_body(), headers=auth(Version=version))

    assert response.status_code == 422
    assert response.json()["message"] == [
        f'header parameter Version: "{version}" is not one of ["2021-07-28", "v3", "2023-02-21"]'
    ]
    assert_conforms(openapi, response)
    assert sandbox.outbox == ()


@pytest.mark.parametrize(("version", "status"), [*((v, 404) for v in ACCEPTED_VERSIONS), ("2020-01-01", 422)])
async def test_the_request_is_checked_before_the_invoice_is_looked_up(
    client: httpx.AsyncClient, version: str, status: int
) -> None:
    # The order is chosen (api_routes.py): a request the spec refuses is 422 whatever it names, so an
    # unknown invoice is a 404 only once the Version (and the rest) is one the API reads.
    response = await client.post(url(UNKNOWN_INVOICE_ID), json=send_body(), headers=auth(Version=version))

    assert response.status_code == status


async def test_resending_delivers_again(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    # Sending is not idempotent upstream, so the sandbox must not deduplicate either.
    for _ in range(2):
        response = await client.post(url(SECOND_DRAFT_INVOICE_ID), json=send_body(action="sms"), headers=auth())
        assert response.status_code == 200

    assert len(sandbox.state.deliveries_for(SECOND_DRAFT_INVOICE_ID)) == 2


async def test_same_requests_give_the_same_answers(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    async def run() -> list[tuple[int, bytes]]:
        sandbox.reset()
        answers = []
        for invoice_id in (DRAFT_INVOICE_ID, VOID_INVOICE_ID, DRAFT_INVOICE_ID, UNKNOWN_INVOICE_ID):
            response = await client.post(url(invoice_id), json=send_body(), headers=auth())
            answers.append((response.status_code, response.content))
        return answers

    first = await run()
    assert first == await run()
    assert first[0] != first[2]  # the resend carries a later updatedAt


async def test_unknown_paths_and_methods_answer_json_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    wrong_method = await client.get(url(DRAFT_INVOICE_ID))

    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
