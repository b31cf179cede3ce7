"""`models/send_invoice_request.py`: the strict writer of requests: careless input gets an error naming the
field, before any I/O."""

from __future__ import annotations

import json
from typing import Any

import pytest
from leadway_invoices_client.models import SendAction, SenderConfiguration, SendInvoiceRequest
from leadway_invoices_client.models.alt_type import AltType

from tests.mock_api import Send, Server


def _request(**changes: Any) -> SendInvoiceRequest:
    fields: dict[str, Any] = {
        "alt_id": "6578278e879ad2646715ba9c",
        "alt_type": AltType.LOCATION,
        "user_id": "u1",
        "action": SendAction.EMAIL,
        "live_mode": False,
    }
    return SendInvoiceRequest(**(fields | changes))


@pytest.mark.parametrize(("field", "value", "key"), [("action", "sms", "action"), ("alt_type", "location", "altType")])
def test_an_enum_field_accepts_a_valid_plain_string(send: Send, field: str, value: str, key: str) -> None:
    server = Server()
    send(server.client(), body=_request(**{field: value}))
    assert json.loads(server.requests[0].content)[key] == value


@pytest.mark.parametrize(
    ("field", "value", "named", "allowed"),
    [
        ("action", "mail", "SendInvoiceRequest.action", "'email', 'send_manually', 'sms', 'sms_and_email'"),
        ("action", 3, "SendInvoiceRequest.action", "'email'"),
        ("alt_type", "LOCATION", "SendInvoiceRequest.altType", "'account', 'location'"),
        ("alt_type", None, "SendInvoiceRequest.altType", "'account', 'location'"),
    ],
)
def test_an_enum_field_given_anything_else_names_the_field_and_the_allowed_values(
    send: Send, field: str, value: object, named: str, allowed: str
) -> None:
    server = Server()
    with pytest.raises(ValueError, match="must be one of") as caught:
        send(server.client(), body=_request(**{field: value}))
    assert named in str(caught.value)
    assert allowed in str(caught.value)
    assert server.sends == 0


def test_a_model_field_given_a_dict_names_the_field_and_the_model(send: Send) -> None:
    server = Server()
    with pytest.raises(TypeError, match=r"SendInvoiceRequest\.sentFrom must be a SenderConfiguration, not dict"):
        send(server.client(), body=_request(sent_from={"fromName": "Alex", "fromEmail": "alex@example.com"}))
    assert server.sends == 0


def test_a_model_field_built_from_the_same_dict_is_sent(send: Send) -> None:
    server = Server()
    sender = SenderConfiguration.from_dict({"fromName": "Alex", "fromEmail": "alex@example.com"})
    send(server.client(), body=_request(sent_from=sender))
    assert json.loads(server.requests[0].content)["sentFrom"] == {"fromName": "Alex", "fromEmail": "alex@example.com"}
