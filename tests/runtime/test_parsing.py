"""`_runtime/parsing.py`: the tolerant reader records where an answer breaks the spec (paths and JSON
types, never values) and logs it once; the strict writer's checks name the field and what it allows."""

from __future__ import annotations

import logging

import pytest
from leadway_invoices_client import Deviation
from leadway_invoices_client._runtime.parsing import Reader, enum_value, json_type, log_deviations, model_dict
from leadway_invoices_client.models import AltType, SendAction, SenderConfiguration
from leadway_invoices_client.types import UNSET

from tests.mock_api import TOKEN, Send, Server, json_response, success_body_with


def test_the_warning_names_paths_and_types_only(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    body = success_body_with(("invoice", "contactDetails", "email"), ["alex.private@example.com"])
    body["invoice"]["amountPaid"] = "1234.56-private"
    with caplog.at_level(logging.DEBUG, logger="leadway_invoices_client"):
        result = send(Server(json_response(200, body)).client())

    assert {d.path for d in result.deviations} == {"$.invoice.contactDetails.email", "$.invoice.amountPaid"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    logged = caplog.text + repr(result.deviations)
    for secret in ("alex.private", "1234.56-private", TOKEN):
        assert secret not in logged


# --- The reader -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (UNSET, "missing"),
        (None, "null"),
        (True, "boolean"),
        (0, "number"),
        (1.5, "number"),
        ("x", "string"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_a_value_is_named_by_its_json_type(value: object, expected: str) -> None:
    assert json_type(value) == expected


def test_a_tolerant_reader_records_each_deviation_and_gives_unset() -> None:
    reader = Reader()
    assert reader.wrong("$.invoice", "total", "number", "12") is UNSET
    assert reader.wrong("$.invoice.items[0]", "", "object", None) is UNSET
    assert reader.found == [
        Deviation("$.invoice.total", "number", "string"),
        Deviation("$.invoice.items[0]", "object", "null"),
    ]
    assert str(reader.found[0]) == "$.invoice.total: expected number, got string"


def test_a_strict_reader_raises_at_the_first_deviation_without_the_value() -> None:
    reader = Reader(strict=True)
    with pytest.raises(TypeError, match=r"^\$\.invoice\.total: expected number, got str$"):
        reader.wrong("$.invoice", "total", "number", "secret-1234")
    assert reader.found == []
    assert str(Reader().fatal("$.invoice", "_id", "string", UNSET)) == "$.invoice._id: required, missing"


def test_the_warning_names_at_most_twenty_deviations_and_counts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    deviations = [Deviation(f"$.items[{n}]", "object", "string") for n in range(25)]
    with caplog.at_level(logging.WARNING, logger="leadway_invoices_client"):
        log_deviations(deviations, method="GET", operation="get_invoice")
        log_deviations([], method="GET", operation="get_invoice")

    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("GET get_invoice: the answer deviates from the spec in 25 place(s)")
    assert "$.items[19]: expected object, got string; and 5 more" in message
    assert "$.items[20]" not in message


# --- The strict writer ----------------------------------------------------------------------------


def test_an_enum_value_is_taken_from_a_member_or_its_string() -> None:
    assert enum_value(SendAction.SMS, SendAction, "body.action") == "sms"
    assert enum_value("sms_and_email", SendAction, "body.action") == "sms_and_email"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("LOCATION", "'LOCATION'"), (None, "None"), (3, "a int"), ("x" * 41, "a str"), (b"sms", "a bytes")],
)
def test_anything_else_names_the_field_and_the_allowed_values(value: object, shown: str) -> None:
    with pytest.raises(ValueError, match="must be one of") as caught:
        enum_value(value, AltType, "body.altType")
    assert str(caught.value) == (f"body.altType must be one of 'account', 'location' (or AltType.*), got {shown}")


def test_a_model_field_takes_the_model_only() -> None:
    sender = SenderConfiguration(from_name="Alex", from_email="alex@example.com")
    assert model_dict(sender, SenderConfiguration, "body.sentFrom") == sender.to_dict()
    with pytest.raises(TypeError, match=r"body\.sentFrom must be a SenderConfiguration, not dict \(build it"):
        model_dict(sender.to_dict(), SenderConfiguration, "body.sentFrom")
