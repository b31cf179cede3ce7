"""`models/send_invoice_response.py` (and the models it nests): an answer read tolerantly keeps every
well-formed value, names each one left out, and copies and pickles with its deviations and raw JSON."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import Deviation
from leadway_invoices_client._runtime.parsing import Reader
from leadway_invoices_client.models import SendInvoiceResponse
from leadway_invoices_client.types import UNSET, Unset

from tests.mock_api import SUCCESS_BODY, Send, Server, json_response, success_body_with


def test_a_model_read_tolerantly_copies_and_pickles_with_its_deviations_and_raw_json(send: Send) -> None:
    result = send(
        Server(json_response(200, success_body_with(("invoice", "invoiceItems"), ["Macbook Pro", "Charger"]))).client()
    )
    for twin in (copy.copy(result), copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert twin == result
        assert twin.deviations == result.deviations
        assert twin.raw == result.raw
    built = SendInvoiceResponse.from_dict(SUCCESS_BODY)
    assert pickle.loads(pickle.dumps(built)).deviations == ()


def test_nested_models_list_the_deviations_found_within_them(send: Send) -> None:
    body = success_body_with(("invoice", "invoiceItems", 0, "qty"), "1")
    result = send(Server(json_response(200, body)).client())
    assert isinstance(result.invoice.invoice_items, list)
    item = result.invoice.invoice_items[0]
    assert item.qty is UNSET
    assert item.raw["qty"] == "1"
    assert [d.path for d in item.deviations] == ["$.invoice.invoiceItems[0].qty"]
    assert [d.path for d in result.invoice.deviations] == ["$.invoice.invoiceItems[0].qty"]
    assert not isinstance(result.invoice.contact_details, Unset)
    assert result.invoice.contact_details.deviations == ()


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
    body = success_body_with(("invoice", "invoiceItems"), raw_items)
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
    body = success_body_with(("invoice", "invoiceItems"), [_ITEM, "Charger", {**_ITEM, "name": "Second"}])
    result = send(Server(json_response(200, body)).client())
    assert isinstance(result.invoice.invoice_items, list)
    assert [item.name for item in result.invoice.invoice_items] == [_ITEM["name"], "Second"]
    assert result.deviations == (Deviation("$.invoice.invoiceItems[1]", "object", "string"),)
    assert str(result.deviations[0]) == "$.invoice.invoiceItems[1]: expected object, got string"
