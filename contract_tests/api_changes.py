"""What the drift proofs start from and the API changes they apply.

The exchanges: a send of the spec's example, a send refused with 422, a read and a read answered 404,
and two recorded cassettes (a send, a read). The changes: realistic ways the API could drift from the
spec, each applied to a copy of an exchange (`CASSETTE_CHANGES` for the send, `READ_CHANGES` for the
read), with the words the contract checks must then report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from contract_tests import CASSETTES
from contract_tests.exchanges import Exchange
from scripts.sandbox import DRAFT_INVOICE_ID, READ_PATH, example

INVOICE_URL = "http://127.0.0.1:8765/invoices/6578278e879ad2646715ba9c/send"
REQUEST_HEADERS = {
    "authorization": "Bearer REDACTED",
    "version": "2021-07-28",
    "content-type": "application/json",
}
RATE_LIMIT_HEADERS = {
    "content-type": "application/json",
    "x-ratelimit-limit-daily": "200000",
    "x-ratelimit-daily-remaining": "199999",
    "x-ratelimit-interval-milliseconds": "10000",
    "x-ratelimit-max": "100",
    "x-ratelimit-remaining": "99",
}


def _exchange(request: dict[str, Any], status: int, response: dict[str, Any], where: str) -> Exchange:
    return Exchange(
        "POST",
        INVOICE_URL,
        REQUEST_HEADERS,
        json.dumps(request).encode(),
        status,
        RATE_LIMIT_HEADERS,
        json.dumps(response).encode(),
        where,
    )


SENT = _exchange(example("request", "emailAndSms"), 200, example("response", "leadwayPage"), "sent")
REFUSED = _exchange(
    {**example("request", "emailAndSms"), "action": "fax"},
    422,
    {"statusCode": 422, "message": ["action must be one of sms_and_email, send_manually, email, sms"]},
    "refused",
)


READ_URL = f"http://127.0.0.1:8765/invoices/{DRAFT_INVOICE_ID}?altId=6578278e879ad2646715ba9c&altType=location"
READ_BODY = example("response", "upstreamExample", path=READ_PATH, method="get")
READ = replace(
    SENT,
    method="GET",
    url=READ_URL,
    request_headers={k: v for k, v in REQUEST_HEADERS.items() if k != "content-type"},
    request_body=None,
    response_body=json.dumps(READ_BODY).encode(),
    where="read",
)
READ_NOT_FOUND = replace(
    READ, status=404, response_body=b'{"statusCode": 404, "message": "Invoice not found"}', where="read 404"
)


RECORDED_CASSETTE = CASSETTES / "sandbox" / "sync" / "sent-from.yaml"
RECORDED_READ = CASSETTES / "sandbox" / "sync" / "read-draft.yaml"


def response_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Exchange], Exchange]:
    def apply(exchange: Exchange) -> Exchange:
        body = exchange.response_json()
        change(body)
        return replace(exchange, response_body=json.dumps(body).encode())

    return apply


def _request_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Exchange], Exchange]:
    def apply(exchange: Exchange) -> Exchange:
        body = exchange.request_json()
        change(body)
        return replace(exchange, request_body=json.dumps(body).encode())

    return apply


def rename_id(body: dict[str, Any]) -> None:
    body["invoice"]["id"] = body["invoice"].pop("_id")


def rename_email_data(body: dict[str, Any]) -> None:
    body["emailDetails"] = body.pop("emailData")


def live_mode_as_string(body: dict[str, Any]) -> None:
    body["invoice"]["liveMode"] = "false"


def _amount_as_string(body: dict[str, Any]) -> None:
    body["invoice"]["amountPaid"] = "0.00"


def _items_as_strings(body: dict[str, Any]) -> None:
    body["invoice"]["invoiceItems"] = ["c6tZZU0rJBf30ZXx9Gli"]


def _new_action(body: dict[str, Any]) -> None:
    body["action"] = "whatsapp"


def _drop_user_id(body: dict[str, Any]) -> None:
    del body["userId"]


def _html_answer(exchange: Exchange) -> Exchange:
    headers = {**exchange.response_headers, "content-type": "text/html"}
    return replace(exchange, response_headers=headers, response_body=b"<html>Bad Gateway</html>")


def _undocumented_status(exchange: Exchange) -> Exchange:
    return replace(exchange, status=409)


def _rate_limit_header_not_a_number(exchange: Exchange) -> Exchange:
    return replace(exchange, response_headers={**exchange.response_headers, "x-ratelimit-remaining": "many"})


def _rate_limit_headers_dropped(exchange: Exchange) -> Exchange:
    # The pacer lives on them: the spec marks them required on every 2xx.
    kept = {k: v for k, v in exchange.response_headers.items() if not k.lower().startswith("x-ratelimit-")}
    return replace(exchange, response_headers=kept)


def _rate_limit_remaining_renamed(exchange: Exchange) -> Exchange:
    headers = {k: v for k, v in exchange.response_headers.items() if k.lower() != "x-ratelimit-remaining"}
    return replace(exchange, response_headers={**headers, "x-ratelimit-burst-remaining": "99"})


CASSETTE_CHANGES: dict[str, tuple[Callable[[Exchange], Exchange], str]] = {
    "response field renamed (_id -> id)": (response_change(rename_id), '"_id" is a required property'),
    "response field renamed (emailData)": (
        response_change(rename_email_data),
        '"emailData" is a required property',
    ),
    "response type changed (liveMode string)": (
        response_change(live_mode_as_string),
        'is not of type "boolean"',
    ),
    "response type changed (amountPaid string)": (
        response_change(_amount_as_string),
        'is not of type "number"',
    ),
    "response type changed (items as ids)": (response_change(_items_as_strings), 'is not of type "object"'),
    "request enum value the spec lacks": (_request_change(_new_action), "'whatsapp' is not one of"),
    "request lost a required field": (_request_change(_drop_user_id), "'userId' is a required property"),
    "answer became HTML": (_html_answer, "Undocumented Content-Type"),
    "undocumented status": (_undocumented_status, "Undocumented status code"),
    "rate-limit header not an integer": (_rate_limit_header_not_a_number, 'is not of type "integer"'),
    "rate-limit headers dropped": (_rate_limit_headers_dropped, "X-RateLimit-Remaining"),
    "rate-limit header renamed": (_rate_limit_remaining_renamed, "X-RateLimit-Remaining"),
}


def _query(query: str) -> Callable[[Exchange], Exchange]:
    return lambda exchange: replace(exchange, url=exchange.url.split("?")[0] + query)


def read_renamed_id(body: dict[str, Any]) -> None:
    body["id"] = body.pop("_id")


def _read_status_a_number(body: dict[str, Any]) -> None:
    body["status"] = 1


def read_updated_at_a_number(body: dict[str, Any]) -> None:
    body["updatedAt"] = 1701768462355


def _read_reminders_a_list(body: dict[str, Any]) -> None:
    body["remindersConfiguration"]["reminderSettings"]["reminders"] = "none"


READ_CHANGES: dict[str, tuple[Callable[[Exchange], Exchange], str]] = {
    "read: field renamed (_id -> id)": (response_change(read_renamed_id), '"_id" is a required property'),
    "read: status became a number": (
        response_change(_read_status_a_number),
        "'anyOf' keyword",
    ),
    "read: updatedAt became a number": (response_change(read_updated_at_a_number), 'is not of type "string"'),
    "read: reminders not a list": (response_change(_read_reminders_a_list), 'is not of type "array"'),
    "read: rate-limit headers dropped": (_rate_limit_headers_dropped, "X-RateLimit-Remaining"),
    "read: answer became HTML": (_html_answer, "Undocumented Content-Type"),
    "read: undocumented status": (_undocumented_status, "Undocumented status code"),
    "read: query lost altType": (_query("?altId=6578278e879ad2646715ba9c"), "altType"),
    "read: altType value the spec lacks": (_query("?altId=6578278e879ad2646715ba9c&altType=galaxy"), "galaxy"),
}
