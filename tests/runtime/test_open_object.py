"""`_runtime/open_object.py`: a model of an open JSON object keeps the fields the spec does not name,
reads and writes them like a dict, sends them back out, and keeps the JSON it was read from."""

from __future__ import annotations

import json
from typing import Any

import pytest
from leadway_invoices_client._runtime.open_object import OpenObject
from leadway_invoices_client.models.item_tax import ItemTax

from tests.mock_api import SUCCESS_BODY, Send, Server, json_response


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


class Thing(OpenObject):
    """An open object built by hand (as a caller builds a model), its every field an unknown one."""

    def __init__(self, **fields: Any) -> None:
        self.additional_properties = dict(fields)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.additional_properties)


def test_unknown_fields_read_and_write_like_a_dict_and_go_back_out() -> None:
    thing = Thing(a=1, b=[2])
    thing["c"] = {"d": 3}
    del thing["a"]

    assert ("a" in thing, "b" in thing, "c" in thing) == (False, True, True)
    assert thing["c"] == {"d": 3}
    assert thing.additional_keys == ["b", "c"]
    assert thing.to_dict() == {"b": [2], "c": {"d": 3}}
    with pytest.raises(KeyError):
        thing["a"]


def test_a_model_built_by_hand_has_no_deviations_and_its_raw_is_its_json() -> None:
    thing = Thing(a=1)

    assert thing.deviations == ()
    assert thing.raw == {"a": 1}
    thing["b"] = 2
    assert thing.raw == {"a": 1, "b": 2}  # what it would send now


def test_a_model_read_from_json_keeps_the_very_object_it_was_read_from() -> None:
    src: dict[str, Any] = {"rate": "7%", "kind": {"nested": True}}
    tax = ItemTax.from_dict(src)

    assert tax.raw is src
    assert tax["kind"] == {"nested": True}
    assert tax.deviations == ()


def test_the_base_has_no_json_of_its_own() -> None:
    with pytest.raises(NotImplementedError):
        OpenObject().to_dict()
