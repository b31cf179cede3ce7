"""Labelled spec edits: each a change to spec/openapi.yaml, the bump it needs and the lines that name it.

`test_corpus.py` runs each through the contract view (Redocly's diff, rated by our rules) and the
README's rules table points here for an example of each rule.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scripts.api_diff.changes import Bump

SEND, READ = "/invoices/{invoiceId}/send", "/invoices/{invoiceId}"
Spec = dict[str, Any]


@dataclass(frozen=True)
class Edit:
    name: str
    edit: Callable[[Spec], None]
    bump: Bump
    lines: frozenset[str]
    rules: frozenset[str]


def _schemas(spec: Spec) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _add_request_field(spec: Spec, *, required: bool) -> None:
    schema = _schemas(spec)["SendInvoiceRequest"]
    schema["properties"]["note"] = {"type": "string", "description": "A note."}
    if required:
        schema["required"].append("note")


def _add_answer_field(spec: Spec, *, required: bool) -> None:
    schema = _schemas(spec)["Invoice"]
    schema["properties"]["sentAt"] = {"type": "string", "description": "When it was sent."}
    if required:
        schema["required"].append("sentAt")


def _remove(spec: Spec, schema_name: str, field: str) -> None:
    schema = _schemas(spec)[schema_name]
    del schema["properties"][field]
    if field in schema.get("required", []):
        schema["required"].remove(field)


def _rename(spec: Spec, schema_name: str, old: str, new: str) -> None:
    schema = _schemas(spec)[schema_name]
    schema["properties"] = {new if key == old else key: value for key, value in schema["properties"].items()}
    schema["required"] = [new if key == old else key for key in schema.get("required", [])]


def _require(spec: Spec, schema_name: str, field: str, *, required: bool) -> None:
    names = _schemas(spec)[schema_name]["required"]
    if required:
        names.append(field)
    else:
        names.remove(field)


def _set_type(spec: Spec, schema_name: str, field: str, json_type: str | list[str]) -> None:
    _schemas(spec)[schema_name]["properties"][field]["type"] = json_type


def _add_enum_value(spec: Spec, schema_name: str, value: str, member: str) -> None:
    schema = _schemas(spec)[schema_name]
    schema["enum"].append(value)
    schema["x-enum-varnames"].append(member)


def _remove_enum_value(spec: Spec, schema_name: str, value: str) -> None:
    schema = _schemas(spec)[schema_name]
    index = schema["enum"].index(value)
    del schema["enum"][index]
    del schema["x-enum-varnames"][index]


def _new_operation(spec: Spec) -> None:
    operation = copy.deepcopy(spec["paths"][SEND]["post"])
    operation["operationId"] = "voidInvoice"
    operation["summary"] = "Void an invoice"
    spec["paths"]["/invoices/{invoiceId}/void"] = {"post": operation}


def _new_version(spec: Spec) -> None:
    schema = spec["components"]["parameters"]["Version"]["schema"]
    schema["enum"].append("2025-06-01")
    schema["x-enum-varnames"].append("V2025_06_01")


def _new_query_parameter(spec: Spec, name: str = "dryRun", *, required: bool = False) -> None:
    parameter = {"name": name, "in": "query", "required": required, "schema": {"type": "boolean"}}
    spec["paths"][SEND]["post"].setdefault("parameters", []).append(parameter)


def _remove_query_parameter(spec: Spec) -> None:
    parameters = spec["paths"][READ]["get"]["parameters"]
    parameters[:] = [p for p in parameters if p.get("name") != "altType"]


def _describe(spec: Spec) -> None:
    _schemas(spec)["SendInvoiceRequest"]["description"] = "Body of a send (reworded)."


def _set_info_version(spec: Spec) -> None:
    spec["info"]["version"] = "2021-07-29"


def _status(spec: Spec, status: str, *, add: bool) -> None:
    responses = spec["paths"][SEND]["post"]["responses"]
    if add:
        responses["409"] = copy.deepcopy(responses["403"])
    else:
        del responses[status]


def _send_ok_headers(spec: Spec) -> dict[str, Any]:
    """The send's 200 headers, its own copy (the spec shares them with the read's 200)."""
    answer = spec["paths"][SEND]["post"]["responses"]["200"]
    answer["headers"] = headers = dict(answer["headers"])
    return headers


def _drop_not_found_headers(spec: Spec) -> None:
    """The send's 404 without its headers; the read's (the same shared answer) keeps them."""
    shared = spec["components"]["responses"]["NotFound"]
    spec["paths"][SEND]["post"]["responses"]["404"] = {key: shared[key] for key in shared if key != "headers"}


def _new_request_header(spec: Spec) -> None:
    parameter = {"name": "X-Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}
    spec["paths"][SEND]["post"]["parameters"].append(parameter)


def _e(name: str, edit: Callable[[Spec], None], bump: Bump, *lines_and_rules: tuple[str, str]) -> Edit:
    return Edit(
        name, edit, bump, frozenset(line for line, _ in lines_and_rules), frozenset(rule for _, rule in lines_and_rules)
    )


CORPUS = (
    _e("nothing changed", lambda spec: None, Bump.NONE),
    _e(
        "request field added, optional",
        lambda spec: _add_request_field(spec, required=False),
        Bump.MINOR,
        ("SendInvoiceRequest.note: added", "field-added"),
    ),
    _e(
        "request field added, required",
        lambda spec: _add_request_field(spec, required=True),
        Bump.MAJOR,
        ("SendInvoiceRequest.note: added, required", "required-field-added"),
    ),
    _e(
        "answer field added, optional",
        lambda spec: _add_answer_field(spec, required=False),
        Bump.MINOR,
        ("Invoice.sent_at: added", "field-added"),
    ),
    _e(
        "answer field added, required",
        lambda spec: _add_answer_field(spec, required=True),
        Bump.MINOR,
        ("Invoice.sent_at: added, required", "required-field-added"),
    ),
    _e(
        "request field removed",
        lambda spec: _remove(spec, "SendInvoiceRequest", "autoPayment"),
        Bump.MAJOR,
        ("SendInvoiceRequest.auto_payment: removed", "field-removed"),
    ),
    _e(
        "answer field removed",
        lambda spec: _remove(spec, "Invoice", "invoiceNumber"),
        Bump.MAJOR,
        ("Invoice.invoice_number: removed", "field-removed"),
    ),
    _e(
        "request field renamed",
        lambda spec: _rename(spec, "SendInvoiceRequest", "userId", "senderUserId"),
        Bump.MAJOR,
        ("SendInvoiceRequest.user_id: removed", "field-removed"),
        ("SendInvoiceRequest.sender_user_id: added, required", "required-field-added"),
    ),
    _e(
        "answer field renamed",
        lambda spec: _rename(spec, "Invoice", "title", "heading"),
        Bump.MAJOR,
        ("Invoice.title: removed", "field-removed"),
        ("Invoice.heading: added", "field-added"),
    ),
    _e(
        "JSON name changed, Python name not",
        lambda spec: _rename(spec, "SendInvoiceRequest", "userId", "userID"),
        Bump.PATCH,
        ("SendInvoiceRequest.user_id: JSON name userId -> userID", "wire-name-changed"),
    ),
    _e(
        "JSON name changed, Python name too",
        lambda spec: _rename(spec, "SendInvoiceRequest", "liveMode", "livemode"),
        Bump.MAJOR,
        ("SendInvoiceRequest.live_mode: renamed to livemode", "field-renamed"),
    ),
    _e(
        "request field made required",
        lambda spec: _require(spec, "SendInvoiceRequest", "sentFrom", required=True),
        Bump.MAJOR,
        ("SendInvoiceRequest.sent_from: now required", "field-now-required"),
    ),
    _e(
        "request field made optional",
        lambda spec: _require(spec, "SendInvoiceRequest", "liveMode", required=False),
        Bump.MINOR,
        ("SendInvoiceRequest.live_mode: now optional", "field-now-optional"),
    ),
    _e(
        "answer field made required",
        lambda spec: _require(spec, "Invoice", "title", required=True),
        Bump.PATCH,
        ("Invoice.title: now required", "field-now-required"),
    ),
    _e(
        "answer field made optional",
        lambda spec: _require(spec, "Invoice", "currency", required=False),
        Bump.PATCH,
        ("Invoice.currency: now optional", "field-now-optional"),
    ),
    _e(
        "request type changed",
        lambda spec: _set_type(spec, "SendInvoiceRequest", "liveMode", "string"),
        Bump.MAJOR,
        ("SendInvoiceRequest.live_mode: type boolean -> string", "type-changed"),
    ),
    _e(
        "request type widened",
        lambda spec: _set_type(spec, "SendInvoiceRequest", "liveMode", ["boolean", "string"]),
        Bump.MINOR,
        ("SendInvoiceRequest.live_mode: type boolean -> boolean | string", "type-widened"),
    ),
    _e(
        "answer type widened",
        lambda spec: _set_type(spec, "Invoice", "total", ["number", "string"]),
        Bump.MAJOR,
        ("Invoice.total: type number -> number | string", "type-widened"),
    ),
    _e(
        "answer type narrowed",
        lambda spec: _set_type(spec, "Invoice", "invoiceNumber", "string"),
        Bump.PATCH,
        ("Invoice.invoice_number: type number | string -> string", "type-narrowed"),
    ),
    _e(
        "request enum value added",
        lambda spec: _add_enum_value(spec, "SendAction", "whatsapp", "WHATSAPP"),
        Bump.MINOR,
        ("SendAction.WHATSAPP: added", "enum-value-added"),
    ),
    _e(
        "request enum value removed",
        lambda spec: _remove_enum_value(spec, "SendAction", "sms"),
        Bump.MAJOR,
        ("SendAction.SMS: removed", "enum-value-removed"),
    ),
    _e(
        "answer enum value added",
        lambda spec: _add_enum_value(spec, "InvoiceStatus", "refunded", "REFUNDED"),
        Bump.MINOR,
        ("InvoiceStatus.REFUNDED: added", "enum-value-added"),
    ),
    _e(
        "answer enum value removed",
        lambda spec: _remove_enum_value(spec, "InvoiceStatus", "void"),
        Bump.MAJOR,
        ("InvoiceStatus.VOID: removed", "enum-value-removed"),
    ),
    _e(
        "enum value added without a member name",
        lambda spec: _schemas(spec)["SendAction"]["enum"].append("whatsapp"),
        Bump.MINOR,
        ("SendAction.WHATSAPP: added", "enum-value-added"),
    ),
    _e(
        "new Version value",
        _new_version,
        Bump.MINOR,
        ("ApiVersion.V2025_06_01: added", "enum-value-added"),
    ),
    _e(
        "new Version value without a member name",
        lambda spec: spec["components"]["parameters"]["Version"]["schema"]["enum"].append("2025-06-01"),
        Bump.MAJOR,
        ("ApiVersion.VALUE_3: added", "enum-value-added"),
        ("ApiVersion.V2021_07_28: renamed to ApiVersion.VALUE_0", "name-changed"),
        ("ApiVersion.V2023_02_21: renamed to ApiVersion.VALUE_2", "name-changed"),
    ),
    _e(
        "new operation",
        _new_operation,
        Bump.MINOR,
        ("api.invoices.void_invoice: added", "operation-added"),
    ),
    _e(
        "operation removed",
        lambda spec: spec["paths"].pop(READ),
        Bump.MAJOR,
        ("api.invoices.get_invoice: removed", "operation-removed"),
    ),
    _e(
        "operation moved to another path",
        lambda spec: spec["paths"].update({"/invoices/{invoiceId}/details": spec["paths"].pop(READ)}),
        Bump.PATCH,
        ("api.invoices.get_invoice: path /invoices/{invoiceId} -> /invoices/{invoiceId}/details", "wire-name-changed"),
    ),
    _e(
        "status removed",
        lambda spec: _status(spec, "403", add=False),
        Bump.MINOR,
        ("send_invoice: status 403 no longer documented", "status-removed"),
    ),
    _e(
        "status added",
        lambda spec: _status(spec, "409", add=True),
        Bump.MINOR,
        ("send_invoice: status 409 documented", "status-added"),
    ),
    _e(
        "new optional parameter",
        _new_query_parameter,
        Bump.MINOR,
        ("send_invoice(dry_run): added", "parameter-added"),
    ),
    _e(
        "new required parameter",
        lambda spec: _new_query_parameter(spec, "channel", required=True),
        Bump.MAJOR,
        ("send_invoice(channel): added, required", "required-parameter-added"),
    ),
    _e(
        "a constraint no rule rates: Redocly's rating",
        lambda spec: _schemas(spec)["SendInvoiceRequest"]["properties"]["userId"].update(maxLength=24),
        Bump.PATCH,
        ("SendInvoiceRequest.user_id: modified maxLength", "other"),
    ),
    _e(
        "new required request header: a parameter",
        _new_request_header,
        Bump.MAJOR,
        ("send_invoice(x_idempotency_key): added, required", "required-parameter-added"),
    ),
    _e(
        "answer header added",
        lambda spec: _send_ok_headers(spec).update({"X-Request-Id": {"schema": {"type": "string"}}}),
        Bump.PATCH,
        ("send_invoice 200 answer header X-Request-Id: added", "answer-header-added"),
    ),
    _e(
        "answer header made required",
        lambda spec: spec["components"]["headers"]["Retry-After"].update(required=True),
        Bump.PATCH,
        ("send_invoice 429 answer header Retry-After: now required", "answer-header-added"),
    ),
    _e(
        "answer header removed",
        lambda spec: _send_ok_headers(spec).pop("X-RateLimit-Max"),
        Bump.MINOR,
        ("send_invoice 200 answer header X-RateLimit-Max: removed", "answer-header-removed"),
    ),
    _e(
        "answer header made optional",
        lambda spec: spec["components"]["headers"]["X-RateLimit-Remaining"].update(required=False),
        Bump.MINOR,
        ("send_invoice 200 answer header X-RateLimit-Remaining: now optional", "answer-header-removed"),
    ),
    _e(
        "an error answer's header map removed: each of its headers",
        _drop_not_found_headers,
        Bump.MINOR,
        *(
            (f"send_invoice 404 answer header X-RateLimit-{name}: removed", "answer-header-removed")
            for name in ("Daily-Remaining", "Interval-Milliseconds", "Limit-Daily", "Max", "Remaining")
        ),
    ),
    _e(
        "header definition added, not used",
        lambda spec: spec["components"]["headers"].update({"X-Trace": {"schema": {"type": "string"}}}),
        Bump.PATCH,
        ("header definition X-Trace: added", "definition-only"),
    ),
    _e(
        "parameter removed",
        _remove_query_parameter,
        Bump.MAJOR,
        ("get_invoice(alt_type): removed", "parameter-removed"),
    ),
    _e(
        "description edited",
        _describe,
        Bump.PATCH,
        ("SendInvoiceRequest: description changed", "documentation"),
    ),
    _e(
        "new API version in info.version",
        _set_info_version,
        Bump.PATCH,
        ("info: version changed", "documentation"),
    ),
)
