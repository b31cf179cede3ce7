"""`_runtime/logs.py`: debug logging of requests and answers with every credential header redacted,
and a filter on the package logger that scrubs a bearer token whoever logs it."""

from __future__ import annotations

import logging

import httpx
import pytest
from leadway_invoices_client import LOGGER_NAME, LeadwayError
from leadway_invoices_client._runtime import logs
from leadway_invoices_client._runtime.logs import REDACTED, RedactingFilter, redact_headers
from leadway_invoices_client.api.invoices import get_invoice
from leadway_invoices_client.models.alt_type import AltType

from tests.mock_api import INVOICE_ID, LOCATION, READ_BODY, SUCCESS_BODY, TOKEN, Send, Server, json_response

ERRORS = [
    json_response(401, {"statusCode": 401, "message": "Invalid token"}),
    json_response(500, {"message": "boom"}),
    httpx.Response(200, content=b"<html>"),
    httpx.ReadTimeout("timed out"),
    httpx.ConnectError("refused"),
]


@pytest.mark.parametrize("reply", ERRORS, ids=["401", "500", "html", "read-timeout", "connect"])
def test_errors_and_debug_logs_never_contain_the_token(
    send: Send, reply: httpx.Response | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LeadwayError) as caught:
        send(Server(reply).client())

    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert caplog.records, "debug logging should have recorded the exchange"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


def test_debug_logs_show_requests_and_answers_with_authorization_redacted(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    send(Server(json_response(200, SUCCESS_BODY)).client())

    ours = [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]
    assert any(m.startswith("request POST https://api.test/invoices/") for m in ours)
    assert any("-> 200" in m for m in ours)
    assert any("'authorization': '<redacted>'" in m for m in ours)
    assert all(TOKEN not in m for m in ours)


@pytest.mark.parametrize(("header", "prefix"), [("X-Api-Key", ""), ("Authorization", "Token"), ("X-Auth", "Key")])
def test_a_custom_credential_header_is_redacted_in_debug_logs(
    send: Send, caplog: pytest.LogCaptureFixture, header: str, prefix: str
) -> None:
    # Old code redacted Authorization, Cookie and friends only, and scrubbed "Bearer <x>" patterns.
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    send(Server().client(auth_header_name=header, prefix=prefix))
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"'{header.lower()}': '<redacted>'" in m for m in messages)
    assert all(TOKEN not in m for m in messages)


def test_the_token_is_redacted_from_the_reads_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="leadway_invoices_client"):
        get_invoice.sync(
            INVOICE_ID,
            client=Server(json_response(200, READ_BODY)).client(),
            alt_id=LOCATION,
            alt_type=AltType.LOCATION,
        )

    assert caplog.records
    assert not any(TOKEN in record.getMessage() for record in caplog.records)


def test_the_package_logger_scrubs_bearer_tokens_logged_by_anyone(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    logging.getLogger(LOGGER_NAME).debug("careless %s", f"Authorization: Bearer {TOKEN}")

    assert caplog.records[-1].getMessage() == "careless Authorization: Bearer <redacted>"


# --- The redaction itself -------------------------------------------------------------------------


def test_every_sensitive_header_and_each_one_named_is_redacted_whatever_its_case() -> None:
    headers = httpx.Headers(
        [
            ("Authorization", "Bearer a"),
            ("Proxy-Authorization", "Basic b"),
            ("Cookie", "c=1"),
            ("Set-Cookie", "d=2"),
            ("X-Api-Key", "e"),
            ("Content-Type", "application/json"),
        ]
    )
    assert redact_headers(headers, frozenset({"x-api-key"})) == {
        "authorization": REDACTED,
        "proxy-authorization": REDACTED,
        "cookie": REDACTED,
        "set-cookie": REDACTED,
        "x-api-key": REDACTED,
        "content-type": "application/json",
    }
    assert redact_headers([("AUTHORIZATION", "Bearer a"), ("X-Api-Key", "e")]) == {
        "AUTHORIZATION": REDACTED,
        "X-Api-Key": "e",
    }


@pytest.mark.parametrize(
    ("message", "args", "logged"),
    [
        ("header %s", ("Bearer abc.def-123",), "header Bearer <redacted>"),
        ("{'authorization': 'bearer xyz'}", (), "{'authorization': 'bearer <redacted>'}"),
        ('{"token": "BEARER q1", "n": 2}', (), '{"token": "BEARER <redacted>", "n": 2}'),
        ("nothing %s here", ("secret-free",), "nothing secret-free here"),
    ],
)
def test_the_filter_scrubs_a_bearer_token_from_any_record(message: str, args: tuple[object, ...], logged: str) -> None:
    record = logging.LogRecord(LOGGER_NAME, logging.INFO, __file__, 1, message, args, None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == logged


def test_the_package_logger_has_the_filter_once() -> None:
    assert logs.logger is logging.getLogger(LOGGER_NAME)
    assert [type(f) for f in logs.logger.filters].count(RedactingFilter) == 1
