"""The send call's happy path and its answers, sync and async alike."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import ContractViolationError, Deviation
from leadway_invoices_client._runtime.parsing import Reader
from leadway_invoices_client.models import ErrorResponse, SendInvoiceResponse
from leadway_invoices_client.models.invoice_status import InvoiceStatus
from leadway_invoices_client.types import UNSET, Unset

from .conftest import INVOICE_ID, SUCCESS_BODY, TOKEN, Send, SendDetailed, Server, json_response


def test_success_returns_the_model_and_sends_one_well_formed_request(send: Send) -> None:
    server = Server()
    result = send(server.client())

    assert isinstance(result, SendInvoiceResponse)
    assert result.invoice.id == SUCCESS_BODY["invoice"]["_id"]
    assert result.invoice.status is InvoiceStatus.SENT
    assert server.sends == 1
    request = server.requests[0]
    assert request.method == "POST"
    assert request.url == f"https://api.test/invoices/{INVOICE_ID}/send"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    # The spec's Version header goes out without the caller passing it.
    assert request.headers["Version"] == "2021-07-28"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "altId": "6578278e879ad2646715ba9c",
        "altType": "location",
        "userId": "u1",
        "action": "email",
        "liveMode": False,
    }


def test_detailed_returns_the_whole_answer_with_an_int_status(send_detailed: SendDetailed) -> None:
    server = Server(json_response(200, SUCCESS_BODY, {"X-RateLimit-Remaining": "99"}))
    response = send_detailed(server.client())

    assert response.status_code == 200
    assert type(response.status_code) is int
    assert isinstance(response.parsed, SendInvoiceResponse)
    assert json.loads(response.content) == SUCCESS_BODY
    assert response.headers["X-RateLimit-Remaining"] == "99"


@pytest.mark.parametrize("status", [400, 404, 422, 499, 500, 520, 302])
def test_detailed_never_raises_for_an_answer(send_detailed: SendDetailed, status: int) -> None:
    server = Server(json_response(status, {"statusCode": status, "message": ["a", "b"]}))
    response = send_detailed(server.client())

    assert response.status_code == status
    assert isinstance(response.parsed, ErrorResponse) or response.parsed is None
    assert server.sends == 1


def test_detailed_keeps_an_off_spec_body_raw(send_detailed: SendDetailed) -> None:
    server = Server(json_response(200, [1, 2]))
    response = send_detailed(server.client())

    assert response.parsed is None
    assert response.content == b"[1, 2]"


def test_unknown_status_values_and_extra_keys_are_kept(send: Send) -> None:
    body = json.loads(json.dumps(SUCCESS_BODY))
    body["invoice"]["status"] = "archived"
    body["invoice"]["brandNew"] = {"x": 1}
    result = send(Server(json_response(200, body)).client())

    assert result.invoice.status == "archived"
    assert result.invoice.additional_properties["brandNew"] == {"x": 1}
    # Open objects read like dicts too, and send unknown fields back out.
    assert "brandNew" in result.invoice
    assert result.invoice["brandNew"] == {"x": 1}
    assert "brandNew" in result.invoice.additional_keys
    assert result.invoice.to_dict()["brandNew"] == {"x": 1}


def _without(path: tuple[str | int, ...]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(SUCCESS_BODY))
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(SUCCESS_BODY))
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


# A success whose body is not a JSON object with a usable invoice id and status: raised in any mode.
UNUSABLE_BODIES = {
    "html": b"<html><body>502 Bad Gateway</body></html>",
    "truncated": json.dumps(SUCCESS_BODY).encode()[:300],
    "empty": b"",
    "not utf-8": b"\xff\xfe{",
    "json list": b"[]",
    "json string": b'"sent"',
    "json null": b"null",
    "missing invoice": json.dumps(_without(("invoice",))).encode(),
    "missing nested id": json.dumps(_without(("invoice", "_id"))).encode(),
    "missing status": json.dumps(_without(("invoice", "status"))).encode(),
    "invoice not an object": json.dumps(_with(("invoice",), "x")).encode(),
    "invoice null": json.dumps(_with(("invoice",), None)).encode(),
    "_id a number": json.dumps(_with(("invoice", "_id"), 5)).encode(),
    "status a number": json.dumps(_with(("invoice", "status"), 3)).encode(),
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}

# Everything else that breaks the spec: (body, the deviations it must list as (path, expected, got)).
DEVIATING_BODIES: dict[str, tuple[dict[str, Any], set[tuple[str, str, str]]]] = {
    "liveMode a string": (_with(("invoice", "liveMode"), "yes"), {("$.invoice.liveMode", "boolean", "string")}),
    "amountPaid a numeric string": (
        _with(("invoice", "amountPaid"), "0"),
        {("$.invoice.amountPaid", "number", "string")},
    ),
    "amountPaid a bool": (_with(("invoice", "amountPaid"), True), {("$.invoice.amountPaid", "number", "boolean")}),
    "qty a numeric string": (
        _with(("invoice", "invoiceItems", 0, "qty"), "1"),
        {("$.invoice.invoiceItems[0].qty", "number", "string")},
    ),
    "total null": (_with(("invoice", "total"), None), {("$.invoice.total", "number", "null")}),
    "businessDetails null": (
        _with(("invoice", "businessDetails"), None),
        {("$.invoice.businessDetails", "object", "null")},
    ),
    "no dueDate": (_without(("invoice", "dueDate")), {("$.invoice.dueDate", "string", "missing")}),
    "no contactDetails": (_without(("invoice", "contactDetails")), {("$.invoice.contactDetails", "object", "missing")}),
    "invoiceItems an object": (_with(("invoice", "invoiceItems"), {}), {("$.invoice.invoiceItems", "array", "object")}),
    "line items are strings": (
        _with(("invoice", "invoiceItems"), ["Macbook Pro", "Charger"]),
        {("$.invoice.invoiceItems[0]", "object", "string"), ("$.invoice.invoiceItems[1]", "object", "string")},
    ),
    "invoiceNumber a list": (
        _with(("invoice", "invoiceNumber"), []),
        {("$.invoice.invoiceNumber", "string or number", "array")},
    ),
    "address a number": (
        _with(("invoice", "businessDetails", "address"), 3),
        {("$.invoice.businessDetails.address", "object or string", "number")},
    ),
    "customFields of numbers": (
        _with(("invoice", "contactDetails", "customFields"), [1]),
        {("$.invoice.contactDetails.customFields[0]", "string", "number")},
    ),
    "smsData a list": (_with(("smsData",), []), {("$.smsData", "object", "array")}),
    "no emailData": (_without(("emailData",)), {("$.emailData", "object", "missing")}),
}


def _content(name: str) -> bytes:
    return json.dumps(DEVIATING_BODIES[name][0]).encode()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("content", UNUSABLE_BODIES.values(), ids=UNUSABLE_BODIES.keys())
def test_an_unusable_success_raises_contract_violation_with_the_raw_body(
    send: Send, content: bytes, strict: bool
) -> None:
    server = Server(httpx.Response(200, content=content, headers={"Content-Type": "application/json"}))

    with pytest.raises(ContractViolationError) as caught:
        send(server.client(), strict=strict)

    error = caught.value
    assert error.status_code == 200
    assert error.content == content
    assert error.invoice_id == INVOICE_ID
    assert not error.safe_to_retry
    assert server.sends == 1


@pytest.mark.parametrize("name", sorted(DEVIATING_BODIES))
def test_a_deviating_success_is_returned_with_its_deviations_and_raw_json(
    send: Send, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, expected = DEVIATING_BODIES[name]
    server = Server(json_response(200, body))

    with caplog.at_level(logging.WARNING, logger="leadway_invoices_client"):
        result = send(server.client())

    assert isinstance(result, SendInvoiceResponse)
    assert result.invoice.id == SUCCESS_BODY["invoice"]["_id"]
    assert result.invoice.status is InvoiceStatus.SENT
    assert {tuple(d) for d in result.deviations} == expected
    # The raw JSON is all there, deviating values included.
    assert result.raw == body
    assert result.invoice.raw == body["invoice"]
    # Each deviating field is UNSET, each deviating list item left out of its list: a typed
    # attribute never holds a value of another type.
    for path, _, _ in expected:
        if path.endswith("]"):
            assert _typed_at(result, path.rpartition("[")[0]) == [], path  # every item here deviated
        else:
            assert _typed_at(result, path) is UNSET, path
    [record] = [r for r in caplog.records if r.name == "leadway_invoices_client"]
    assert record.levelno == logging.WARNING
    for path, _, _ in expected:
        assert path in record.getMessage()
    assert server.sends == 1


def _typed_at(model: Any, path: str) -> Any:
    """The typed attribute at a deviation's path; an item of a list that is UNSET is UNSET too."""
    value = model
    for part in path.removeprefix("$.").split("."):
        key, _, index = part.partition("[")
        value = getattr(value, re.sub(r"([A-Z])", r"_\1", key).lower())
        if index and value is not UNSET:
            value = value[int(index.rstrip("]"))]
    return value


def test_the_warning_names_paths_and_types_only(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    body = _with(("invoice", "contactDetails", "email"), ["alex.private@example.com"])
    body["invoice"]["amountPaid"] = "1234.56-private"
    with caplog.at_level(logging.DEBUG, logger="leadway_invoices_client"):
        result = send(Server(json_response(200, body)).client())

    assert {d.path for d in result.deviations} == {"$.invoice.contactDetails.email", "$.invoice.amountPaid"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    logged = caplog.text + repr(result.deviations)
    for secret in ("alex.private", "1234.56-private", TOKEN):
        assert secret not in logged


@pytest.mark.parametrize("name", sorted(DEVIATING_BODIES))
def test_strict_raises_for_every_deviation_client_wide_and_per_call(send: Send, name: str) -> None:
    expected = DEVIATING_BODIES[name][1]
    for client_strict, call_strict in [(True, None), (False, True)]:
        server = Server(json_response(200, DEVIATING_BODIES[name][0]))
        with pytest.raises(ContractViolationError) as caught:
            send(server.client(strict=client_strict), strict=call_strict)
        assert any(path in caught.value.reason for path, _, _ in expected), caught.value.reason
        assert caught.value.content == _content(name)
        assert server.sends == 1


def test_a_call_can_be_tolerant_on_a_strict_client(send: Send) -> None:
    server = Server(json_response(200, DEVIATING_BODIES["no dueDate"][0]))
    result = send(server.client(strict=True), strict=False)
    assert result.invoice.due_date is UNSET
    assert [d.path for d in result.deviations] == ["$.invoice.dueDate"]


def test_a_spec_following_answer_has_no_deviations_and_logs_nothing(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="leadway_invoices_client"):
        result = send(Server().client())
    assert result.deviations == ()
    assert result.invoice.deviations == ()
    assert result.to_dict() == SUCCESS_BODY == result.raw
    assert caplog.records == []


def test_nested_models_list_the_deviations_found_within_them(send: Send) -> None:
    body = _with(("invoice", "invoiceItems", 0, "qty"), "1")
    result = send(Server(json_response(200, body)).client())
    assert isinstance(result.invoice.invoice_items, list)
    item = result.invoice.invoice_items[0]
    assert item.qty is UNSET
    assert item.raw["qty"] == "1"
    assert [d.path for d in item.deviations] == ["$.invoice.invoiceItems[0].qty"]
    assert [d.path for d in result.invoice.deviations] == ["$.invoice.invoiceItems[0].qty"]
    assert not isinstance(result.invoice.contact_details, Unset)
    assert result.invoice.contact_details.deviations == ()


def test_detailed_reads_tolerantly_unless_strict(send_detailed: SendDetailed) -> None:
    content = _content("no contactDetails")
    tolerant = send_detailed(Server(json_response(200, json.loads(content))).client())
    assert isinstance(tolerant.parsed, SendInvoiceResponse)
    assert [d.path for d in tolerant.parsed.deviations] == ["$.invoice.contactDetails"]
    strict = send_detailed(Server(json_response(200, json.loads(content))).client(), strict=True)
    assert strict.parsed is None
    assert strict.content == content


def test_an_undocumented_success_status_is_a_contract_violation(send: Send) -> None:
    with pytest.raises(ContractViolationError, match="201"):
        send(Server(json_response(201, SUCCESS_BODY)).client())


def test_a_model_read_tolerantly_copies_and_pickles_with_its_deviations_and_raw_json(send: Send) -> None:
    result = send(Server(json_response(200, DEVIATING_BODIES["line items are strings"][0])).client())
    for twin in (copy.copy(result), copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert twin == result
        assert twin.deviations == result.deviations
        assert twin.raw == result.raw
    built = SendInvoiceResponse.from_dict(SUCCESS_BODY)
    assert pickle.loads(pickle.dumps(built)).deviations == ()


# A list where only some items are malformed keeps the good ones; each one left out is a deviation
# at its own index. The old code made the whole list UNSET (good items lost).
JUNK = st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(), st.just([]))
_ITEM = SUCCESS_BODY["invoice"]["invoiceItems"][0]
LINE_ITEMS = st.lists(
    st.one_of(
        st.tuples(st.just("good"), st.fixed_dictionaries({}, optional={"qty": st.sampled_from([2, "2", None])})),
        st.tuples(st.just("junk"), JUNK),
    ),
    min_size=1,
    max_size=6,
)


def _json_type(value: object) -> str:
    names = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return names.get(type(value), "object")


@settings(max_examples=150, deadline=None)
@given(
    items=LINE_ITEMS,
    custom=st.lists(
        st.one_of(st.tuples(st.just("good"), st.text(max_size=5)), st.tuples(st.just("junk"), JUNK)), max_size=5
    ),
)
def test_a_list_keeps_its_well_formed_items_and_names_each_one_left_out(
    items: list[tuple[str, Any]], custom: list[tuple[str, Any]]
) -> None:
    raw_items = [{**_ITEM, **value} if kind == "good" else value for kind, value in items]
    body = _with(("invoice", "invoiceItems"), raw_items)
    body["invoice"]["contactDetails"]["customFields"] = [value for _, value in custom]
    result = SendInvoiceResponse.from_dict(json.loads(json.dumps(body)))

    invoice = result.invoice
    good = [i for i, (kind, _) in enumerate(items) if kind == "good"]
    assert isinstance(invoice.invoice_items, list)
    assert [item.raw for item in invoice.invoice_items] == [raw_items[i] for i in good]
    assert not isinstance(invoice.contact_details, Unset)
    assert invoice.contact_details.custom_fields == [value for _, value in custom if isinstance(value, str)]
    expected = {
        *(
            (f"$.invoice.invoiceItems[{i}]", "object", _json_type(value))
            for i, value in enumerate(raw_items)
            if i not in good
        ),
        *(
            (f"$.invoice.invoiceItems[{i}].qty", "number", _json_type(raw_items[i]["qty"]))
            for i in good
            if not isinstance(raw_items[i]["qty"], int)
        ),
        *(
            (f"$.invoice.contactDetails.customFields[{i}]", "string", _json_type(value))
            for i, (_, value) in enumerate(custom)
            if not isinstance(value, str)
        ),
    }
    assert {tuple(d) for d in result.deviations} == expected
    # Nothing is lost: the raw JSON still holds every item, the dropped ones included.
    assert result.invoice.raw["invoiceItems"] == raw_items
    if expected:
        with pytest.raises(TypeError):
            SendInvoiceResponse.from_dict(json.loads(json.dumps(body)), Reader(strict=True))


def test_a_line_item_that_is_a_string_is_left_out_and_the_others_kept(send: Send) -> None:
    body = _with(("invoice", "invoiceItems"), [_ITEM, "Charger", {**_ITEM, "name": "Second"}])
    result = send(Server(json_response(200, body)).client())
    assert isinstance(result.invoice.invoice_items, list)
    assert [item.name for item in result.invoice.invoice_items] == [_ITEM["name"], "Second"]
    assert result.deviations == (Deviation("$.invoice.invoiceItems[1]", "object", "string"),)
    assert str(result.deviations[0]) == "$.invoice.invoiceItems[1]: expected object, got string"
