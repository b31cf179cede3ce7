"""`_runtime/fields.py`: the kinds of JSON value in a model's field table, the readers and writers that
walk it, and the promise that a model's generated fast path (`_parse`) accepts exactly what its table
reads without a deviation, and reads it alike."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client._runtime.fields import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    AnyOf,
    ListOf,
    Model,
    OneOf,
)
from leadway_invoices_client._runtime.open_object import OpenObject
from leadway_invoices_client._runtime.parsing import Deviates, Deviation, Reader
from leadway_invoices_client._runtime.types import UNSET
from leadway_invoices_client.models import (
    Address,
    AltType,
    BusinessDetails,
    ContactDetails,
    Discount,
    ErrorResponse,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    SendAction,
    SendInvoiceRequest,
    SendInvoiceResponse,
    TotalSummary,
)

from scripts.sandbox import example


def test_scalars_check_json_types_exactly() -> None:
    assert [BOOLEAN.check(v) for v in (True, 1, "true")] == [True, False, False]
    assert [INTEGER.check(v) for v in (1, True, 1.0)] == [True, False, False]
    assert [NUMBER.check(v) for v in (1, 1.5, True, "1")] == [True, True, False, False]
    assert [STRING.check(v) for v in ("", 1, None, UNSET)] == [True, False, False, False]


def test_an_enum_names_its_values_in_the_spec_s_order_and_reads_them_as_members() -> None:
    kind = OneOf(InvoiceStatus, "sent", "paid")
    assert kind.expected == "one of sent, paid"
    assert kind.check("paid")
    assert not kind.check("lost")
    assert not kind.check(1)
    assert kind.read("paid", Reader(), "$.status") is InvoiceStatus.PAID
    assert kind.dump(InvoiceStatus.PAID) == "paid"


def test_a_list_keeps_the_very_list_when_every_item_is_well_formed() -> None:
    items = ["a", "b"]
    assert ListOf(STRING).read(items, Reader(), "$.l") is items


def test_a_list_leaves_out_each_item_that_deviates_naming_its_index() -> None:
    reader = Reader()
    kept = ListOf(Model(InvoiceItem)).read([{"name": "a"}, "b", {"qty": "1"}], reader, "$.items")
    assert [item.name for item in kept] == ["a", UNSET]
    assert reader.found == [
        Deviation("$.items[1]", "object", "string"),
        Deviation("$.items[2].qty", "number", "string"),
    ]


def test_a_strict_reader_raises_at_the_first_item_that_deviates() -> None:
    with pytest.raises(TypeError, match=r"^\$\.l\[1\]: expected string, got int$"):
        ListOf(STRING).read(["a", 1], Reader(strict=True), "$.l")


def test_a_union_reads_its_first_matching_member_and_a_list_member_must_be_well_formed_throughout() -> None:
    kind = AnyOf(STRING, ListOf(STRING))
    assert kind.expected == "string or array"
    assert kind.check("a")
    assert kind.check(["a"])
    assert not kind.check(["a", 1])
    assert AnyOf(OneOf(InvoiceStatus, "sent"), STRING).read("sent", Reader(), "$") is InvoiceStatus.SENT
    assert AnyOf(OneOf(InvoiceStatus, "sent"), STRING).read("lost", Reader(), "$") == "lost"


def test_a_request_names_the_model_and_key_of_what_breaks_the_spec() -> None:
    valid = example("request", "emailAndSms")
    with pytest.raises(TypeError, match=r"^SendInvoiceRequest\.userId: required, missing$"):
        SendInvoiceRequest.from_dict({key: value for key, value in valid.items() if key != "userId"})
    with pytest.raises(TypeError, match=r"^SendInvoiceRequest\.liveMode: expected boolean, got str$"):
        SendInvoiceRequest.from_dict({**valid, "liveMode": "true"})
    with pytest.raises(TypeError, match=r"^SendInvoiceRequest: expected object, got list$"):
        SendInvoiceRequest.from_dict([])  # type: ignore[arg-type]


def test_a_request_writes_an_enum_given_as_one_of_its_values_and_refuses_anything_else() -> None:
    body = SendInvoiceRequest("loc", "location", "usr", "email", True).to_dict()  # type: ignore[arg-type]
    assert (body["altType"], body["action"]) == ("location", "email")
    assert SendInvoiceRequest("loc", AltType.LOCATION, "usr", SendAction.SMS, True).to_dict()["action"] == "sms"
    with pytest.raises(ValueError, match=r"^SendInvoiceRequest\.action must be one of "):
        SendInvoiceRequest("loc", AltType.LOCATION, "usr", "fax", True).to_dict()  # type: ignore[arg-type]


# --- the fast path and the table agree -----------------------------------------------------------

# Values that look like those of other fields (a bool where a number goes, an enum value, an object
# in a list of strings, ...) more often than arbitrary JSON would give them.
LOOKALIKES: list[Any] = [None, True, 0, 1, 1.5, "", "sent", "x", [], {}, ["a"], [1], [{}], {"name": 1}]
JSON: st.SearchStrategy[Any] = st.sampled_from(LOOKALIKES) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "qty", "x"]), inner),
    max_leaves=4,
)
RESPONSE = example("response", "leadwayPage")
INVOICE = RESPONSE["invoice"]
# Each model with a body of its own, so that mutations land on its fields often, nested ones included.
VALID: dict[type[OpenObject], dict[str, Any]] = {
    SendInvoiceResponse: RESPONSE,
    Invoice: INVOICE,
    BusinessDetails: INVOICE["businessDetails"],
    Address: INVOICE["businessDetails"]["address"],
    ContactDetails: INVOICE["contactDetails"],
    InvoiceItem: {**INVOICE["invoiceItems"][0], "taxes": [{"name": "VAT", "rate": 20}]},
    Discount: INVOICE["discount"],
    TotalSummary: INVOICE["totalSummary"],
    ErrorResponse: {"statusCode": 422, "message": ["a", "b"], "error": "Unprocessable Entity"},
}


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


@st.composite
def answers(draw: st.DrawFn, valid: dict[str, Any]) -> dict[str, Any]:
    """A valid answer with up to three values replaced, removed or added, at any depth."""
    body = copy.deepcopy(valid)
    for _ in range(draw(st.integers(0, 3))):
        value = copy.deepcopy(draw(JSON))  # a later step may change it: never the strategy's own
        paths = list(_paths(body))
        if not paths:  # every key removed
            break
        *parents, key = draw(st.sampled_from(paths))
        parent: Any = body
        for step in parents:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[key]
        elif action == "add" and isinstance(parent, list):
            parent.insert(key, value)
        elif action == "add":
            parent["unknown"] = value
        else:
            parent[key] = value
    return body


@pytest.mark.parametrize("model", list(VALID), ids=lambda model: model.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_fast_path_accepts_what_the_table_reads_cleanly(model: type[OpenObject], data: st.DataObject) -> None:
    body = data.draw(answers(VALID[model]))
    try:
        fast = model._parse(body)
    except Deviates:
        fast = None
    reader = Reader()
    try:
        read = model._read(body, reader, "$")
    except TypeError:  # a missing or mistyped x-must-parse field
        assert fast is None
        return
    assert (fast is not None) == (not reader.found)
    if fast is not None:
        assert fast == read
        assert fast.to_dict() == read.to_dict() == body
        assert fast.raw is read.raw is body
