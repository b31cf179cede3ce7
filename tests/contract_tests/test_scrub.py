"""`contract_tests.scrub`: secrets and customer PII never reach a cassette, and leftovers are found."""

from __future__ import annotations

import json
from typing import Any

import pytest
from vcr.request import Request

from contract_tests.scrub import AUTHORIZATION_PLACEHOLDER, Scrubber, find_leaks, find_leaks_in_text

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJsb2NhdGlvbiI6InRlc3QifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
# A made-up private integration token, in parts so that secret scanners do not flag this file.
PIT = "pit-" + "0123abcd-4567-89ab-cdef-0123456789ab"


def invoice(email: str = "alex@realmail.com", phone: str = "+1-214-559-6993", name: str = "Alex Doe") -> dict[str, Any]:
    return {
        "invoice": {
            "name": "New Invoice",
            "contactDetails": {
                "name": name,
                "email": email,
                "phoneNo": phone,
                "companyName": "Doe Plumbing",
                "address": {"addressLine1": "9931 Beechwood", "city": "Houston", "countryCode": "US"},
                "additionalEmails": [{"email": "billing@realmail.com"}],
            },
            "businessDetails": {"name": "Alex", "address": "1 Main St, Houston"},
            "invoiceItems": [{"name": "Macbook Pro", "amount": 999}],
            "issueDate": "2023-01-01",
        },
        "emailData": {"subject": f"Invoice from {name}", "to": [email]},
    }


def test_pii_fields_become_placeholders_and_the_rest_is_kept() -> None:
    scrubbed = Scrubber().document(invoice())
    contact = scrubbed["invoice"]["contactDetails"]
    assert contact["name"] == "Person 1"
    assert contact["email"].endswith("@example.invalid")
    assert contact["phoneNo"].startswith("+1-555-01")
    assert contact["address"] == {"addressLine1": "1 Example Street", "city": "City 1", "countryCode": "US"}
    assert contact["companyName"].startswith("Person ")
    assert contact["additionalEmails"][0]["email"] != "billing@realmail.com"
    assert scrubbed["invoice"]["businessDetails"]["address"] == "Address 1"
    # Not PII: the invoice's and the item's own names, dates, amounts.
    assert scrubbed["invoice"]["name"] == "New Invoice"
    assert scrubbed["invoice"]["invoiceItems"] == [{"name": "Macbook Pro", "amount": 999}]
    assert scrubbed["invoice"]["issueDate"] == "2023-01-01"
    assert list(find_leaks(scrubbed, "doc")) == []


def test_the_same_value_always_gets_the_same_placeholder_and_others_another() -> None:
    scrubber = Scrubber()
    first = scrubber.document(invoice())
    second = scrubber.document(invoice())
    other = scrubber.document(invoice(email="sam@realmail.com", phone="+44 20 7946 0958", name="Sam Roe"))
    assert first == second
    for key in ("name", "email", "phoneNo"):
        assert other["invoice"]["contactDetails"][key] != first["invoice"]["contactDetails"][key]
    # Consistent inside free text too: the subject and `to` name the same placeholders as the fields.
    contact = first["invoice"]["contactDetails"]
    assert first["emailData"] == {"subject": f"Invoice from {contact['name']}", "to": [contact["email"]]}


def test_placeholders_pass_through_unchanged() -> None:
    scrubber = Scrubber()
    once = scrubber.document(invoice())
    assert scrubber.document(once) == once


@pytest.mark.parametrize("secret", ["live-token-123456", JWT, PIT])
def test_tokens_are_removed_from_text(secret: str) -> None:
    scrubbed = Scrubber(secrets=["live-token-123456"]).text(f"token {secret} was refused")
    assert secret not in scrubbed
    assert "REDACTED" in scrubbed


def test_the_vcr_request_hook_replaces_authorization_and_scrubs_the_body() -> None:
    body = json.dumps({"altId": "loc", "sentFrom": {"fromName": "Alex Doe", "fromEmail": "alex@realmail.com"}})
    request = Request(
        "POST",
        "http://127.0.0.1:8765/invoices/6578278e879ad2646715ba9c/send",
        body.encode(),
        {"Authorization": "Bearer live-token-123456", "Cookie": "session=abc", "Content-Length": str(len(body))},
    )
    scrubbed = Scrubber(secrets=["live-token-123456"]).request(request)
    assert scrubbed.headers["Authorization"] == AUTHORIZATION_PLACEHOLDER
    assert "Cookie" not in scrubbed.headers
    sent_from = json.loads(scrubbed.body)["sentFrom"]
    assert sent_from == {"fromName": "Person 1", "fromEmail": "person-1@example.invalid"}
    assert scrubbed.headers["Content-Length"] == str(len(scrubbed.body))


def test_the_vcr_response_hook_scrubs_body_and_headers() -> None:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"set-cookie": ["a=b"], "x-echo": ["alex@realmail.com"], "content-length": ["999"]},
        "body": {"string": json.dumps(invoice()).encode()},
    }
    scrubbed = Scrubber().response(response)
    assert set(scrubbed["headers"]) == {"x-echo"}
    assert scrubbed["headers"]["x-echo"] == ["person-1@example.invalid"]
    assert b"realmail" not in scrubbed["body"]["string"]
    assert b"Alex" not in scrubbed["body"]["string"]


def test_non_json_bodies_are_scrubbed_as_text() -> None:
    assert Scrubber().body(b"contact alex@realmail.com or +1 214 559 6993") == (
        b"contact person-1@example.invalid or +1-555-0101"
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"contactDetails": {"email": "alex@realmail.com"}}, "doc.contactDetails.email: unscrubbed email"),
        ({"contactDetails": {"name": "Alex"}}, "doc.contactDetails.name: unscrubbed name"),
        ({"sentFrom": {"fromName": "Alex"}}, "doc.sentFrom.fromName: unscrubbed name"),
        ({"a": {"address": {"postalCode": "77001"}}}, "doc.a.address.postalCode: unscrubbed postal"),
        ({"message": "call +1-214-559-6993"}, "doc.message: unscrubbed phone number"),
        ({"message": "mail alex@realmail.com"}, "doc.message: unscrubbed email address"),
        ({"echo": JWT}, "doc.echo: holds something shaped like a token"),
        ({"echo": "Bearer live-token-123456"}, "doc.echo: holds a token"),
    ],
)
def test_find_leaks_names_each_leak_without_repeating_it(document: dict[str, Any], expected: str) -> None:
    leaks = list(find_leaks(document, "doc", secrets=["live-token-123456"]))
    assert any(leak.startswith(expected) for leak in leaks), leaks
    assert not any("realmail" in leak or "559-6993" in leak or "live-token" in leak for leak in leaks)


def test_find_leaks_in_text_reads_json_and_plain_text() -> None:
    assert find_leaks_in_text('{"contactDetails": {"phoneNo": "+1-555-0101"}}', "body") == []
    assert find_leaks_in_text("<html>alex@realmail.com</html>", "body") == ["body: unscrubbed email address ale…"]
