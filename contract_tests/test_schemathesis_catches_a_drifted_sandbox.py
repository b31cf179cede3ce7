"""A sandbox that drifted from the spec (an ASGI wrapper rewriting its answers) fails the in-process
schemathesis run with the check that names the drift; for the send and the read.

A wrapper that changes nothing passes first, so every failure is the change's doing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from contract_tests.budget import contract_settings
from contract_tests.exchanges import SINGLE_POST_CHECKS
from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    READ_PATH,
    SEND_PATH,
    SPEC_PATH,
    SandboxConfig,
    create_app,
    example,
)

Headers = list[tuple[bytes, bytes]]


def _same_headers(status: int, headers: Headers) -> Headers:
    return headers


def _drifted(
    app: Any,
    change: Callable[[int, Any], tuple[int, Any]],
    change_headers: Callable[[int, Headers], Headers] = _same_headers,
) -> Any:
    """`app` with every JSON answer passed through `change(status, body) -> (status, body)`, and every
    answer's headers through `change_headers(status, headers) -> headers`."""

    async def drifted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            raw = b"".join(chunks)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            status = start["status"]
            if (dict(headers).get(b"content-type") or b"").startswith(b"application/json"):
                status, document = change(status, json.loads(raw))
                raw = json.dumps(document).encode()
            headers = change_headers(status, headers)
            headers.append((b"content-length", str(len(raw)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        await app(scope, receive, capture)

    return drifted


def _renamed_id(status: int, body: Any) -> tuple[int, Any]:
    if status == 200:
        body["invoice"]["id"] = body["invoice"].pop("_id")
    return status, body


def _accepts_anything(status: int, body: Any) -> tuple[int, Any]:
    return (200, example("response", "leadwayPage")) if status == 422 else (status, body)


def _gone_instead_of_not_found(status: int, body: Any) -> tuple[int, Any]:
    return (410, body) if status == 404 else (status, body)


def _ignores_auth(status: int, body: Any) -> tuple[int, Any]:
    return (200, example("response", "leadwayPage")) if status == 401 else (status, body)


def _unchanged(status: int, body: Any) -> tuple[int, Any]:
    return status, body


SANDBOX_DRIFTS: dict[str, tuple[Callable[[int, Any], tuple[int, Any]], str | None]] = {
    "no drift (the wrapper alone changes nothing)": (_unchanged, None),
    "response field renamed": (_renamed_id, "Response violates schema"),
    "invalid requests accepted": (_accepts_anything, "Schema-violating request accepted"),
    "undocumented status": (_gone_instead_of_not_found, "Undocumented status code"),
    "authentication ignored": (_ignores_auth, "API accepts requests without authentication"),
}


def _failures(
    change: Callable[[int, Any], tuple[int, Any]],
    path: str,
    method: str,
    change_headers: Callable[[int, Headers], Headers] = _same_headers,
    **first: Any,
) -> set[str]:
    """The titles of the checks that fail when schemathesis tests one operation of the sandbox drifted by
    `change` (and `change_headers`): first the case `first` describes, then generated ones, positive and
    negative."""
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    schema.app = _drifted(create_app(SandboxConfig(burst_limit=1_000_000)), change, change_headers)
    operation = schema[path][method]
    failures: set[str] = set()

    def check(case: Any) -> None:
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, checks=SINGLE_POST_CHECKS)
        except FailureGroup as group:
            failures.update(str(getattr(f, "title", f)) for f in group.exceptions)

    # A known invoice first: generated invoice ids are mostly unknown (404), and some checks
    # (ignored_auth) only probe after a successful answer.
    check(operation.Case(path_parameters={"invoiceId": DRAFT_INVOICE_ID}, headers={"Version": "2021-07-28"}, **first))
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    @contract_settings(40)
    @given(case=st.one_of(strategies))
    def generated(case: Any) -> None:
        check(case)

    generated()
    return failures


@pytest.mark.parametrize("drift", sorted(SANDBOX_DRIFTS))
def test_schemathesis_fails_on_a_sandbox_that_drifted(drift: str) -> None:
    change, expected = SANDBOX_DRIFTS[drift]
    # The spec's own example first.
    body = example("request", "emailAndSms")
    failures = _failures(change, SEND_PATH, "POST", body=body, media_type="application/json")
    if expected is None:
        assert failures == set()
    else:
        assert any(expected in title for title in failures), failures


def _read_renamed_id_in_answer(status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(body, dict) and "_id" in body:
        body["id"] = body.pop("_id")
    return status, body


READ_DRIFTS: dict[str, tuple[Callable[[int, Any], tuple[int, Any]], str | None]] = {
    "read: no drift (the wrapper alone changes nothing)": (_unchanged, None),
    "read: response field renamed": (_read_renamed_id_in_answer, "Response violates schema"),
    "read: undocumented status": (_gone_instead_of_not_found, "Undocumented status code"),
    "read: authentication ignored": (_ignores_auth, "API accepts requests without authentication"),
}


@pytest.mark.parametrize("drift", sorted(READ_DRIFTS))
def test_schemathesis_fails_on_a_sandbox_whose_read_drifted(drift: str) -> None:
    change, expected = READ_DRIFTS[drift]
    # The seeded draft first.
    failures = _failures(change, READ_PATH, "GET", query={"altId": "6578278e879ad2646715ba9c", "altType": "location"})
    if expected is None:
        assert failures == set()
    else:
        assert any(expected in title for title in failures), failures


def _renamed_remaining(status: int, headers: Headers) -> Headers:
    """`X-RateLimit-Remaining` renamed on a 2xx, as an API that changed its gateway might."""
    if not 200 <= status < 300:
        return headers
    return [(b"x-ratelimit-burst-remaining" if k.lower() == b"x-ratelimit-remaining" else k, v) for k, v in headers]


@pytest.mark.parametrize(
    ("path", "method", "first"),
    [
        (SEND_PATH, "POST", {"body": example("request", "emailAndSms"), "media_type": "application/json"}),
        (READ_PATH, "GET", {"query": {"altId": "6578278e879ad2646715ba9c", "altType": "location"}}),
    ],
    ids=["send", "read"],
)
def test_schemathesis_fails_on_a_sandbox_that_renamed_a_rate_limit_header(
    path: str, method: str, first: dict[str, Any]
) -> None:
    # The pacer lives on X-RateLimit-Remaining: the spec requires it on every 2xx.
    failures = _failures(_unchanged, path, method, _renamed_remaining, **first)
    assert "Missing required response headers" in failures, failures
