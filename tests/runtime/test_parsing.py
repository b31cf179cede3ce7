"""`_runtime/parsing.py`: the tolerant reader records where an answer breaks the spec (paths and JSON
types, never values) and logs it once; the strict writer's checks name the field and what it allows."""

from __future__ import annotations

import logging

import pytest

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
