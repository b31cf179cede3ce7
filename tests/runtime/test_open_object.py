"""`_runtime/open_object.py`: a model of an open JSON object keeps the fields the spec does not name,
reads and writes them like a dict, sends them back out, and keeps the JSON it was read from."""

from __future__ import annotations

import json

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
