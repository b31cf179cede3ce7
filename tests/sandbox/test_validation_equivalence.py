"""The compiled request checks answer exactly as openapi-core does, on hostile requests.

openapi-core (`OperationValidator.check_with_openapi_core`, the code the sandbox ran on every request
before) is the oracle: for every generated request, `check` must give the same token, messages,
invoice id and body. Separate tests prove that the compiled path really decides the common cases
(otherwise the property would hold trivially).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from scripts.project import READ_PATH, SEND_PATH
from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, LOCATION_TOKEN
from scripts.sandbox.config import SPEC_PATH
from scripts.sandbox.validation import OperationValidator
from tests.sandbox.conftest import send_body

VALIDATOR = OperationValidator(SPEC_PATH, SEND_PATH, "post")
# Another operation of the spec, validated by the same code with no code of its own.
GET_VALIDATOR = OperationValidator(SPEC_PATH, READ_PATH, "get")


def make_request(invoice_id: str, headers: list[tuple[str, str]], query: str = "", method: str = "POST") -> Request:
    """A Starlette request as the router hands it to the endpoint (path already decoded)."""
    path = f"/invoices/{invoice_id}/send" if method == "POST" else f"/invoices/{invoice_id}"
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("127.0.0.1", 8765),
        "root_path": "",
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": query.encode(),
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        "path_params": {"invoiceId": invoice_id},
    }
    return Request(scope)


def assert_same_verdict(request: Request, body: bytes) -> None:
    assert VALIDATOR.check(request, body) == VALIDATOR.check_with_openapi_core(request, body)


# -- hostile parts of a request ---------------------------------------------------------------

latin1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=30)
invoice_ids = st.one_of(
    st.just(DRAFT_INVOICE_ID),
    st.text("0123456789abcdefABCDEF", min_size=23, max_size=25),
    st.sampled_from([".", "..", "%2e%2e", "", " " + DRAFT_INVOICE_ID, DRAFT_INVOICE_ID + "\n", "a b", "é" * 24]),
    st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="/?#"), min_size=1, max_size=26),
)
authorizations = st.one_of(
    st.none(),
    st.sampled_from(
        [
            f"Bearer {DEFAULT_TOKEN}",
            f"bearer {LOCATION_TOKEN}",
            "Bearer",
            "Bearer ",
            f"Bearer  {DEFAULT_TOKEN}",
            "Basic dXNlcjpwYXNz",
            f"BEARER {DEFAULT_TOKEN}",
            f"Bearer\t{DEFAULT_TOKEN}",
            "Bearer unknown-token",
        ]
    ),
    latin1,
)
versions = st.one_of(
    st.none(),
    st.sampled_from(["2021-07-28", "v3", "2023-02-21", "v4", "V3", "", "2021-07-28 ", "2021-07-28,v3"]),
    latin1,
)
ODD_CONTENT_TYPES = [
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json;",
    "application/json; charset",
    'application/json; charset="UTF-8"',
    "application/json;;",
    "text/plain",
    "application/*",
    "*/*",
    "application/vnd.api+json",
    "application/json-patch+json",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    " application/json",
    "application/json ;q=1",
    "application/json; a=b=c",
]
content_types = st.one_of(st.none(), st.sampled_from(ODD_CONTENT_TYPES), latin1)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["altId", "altType", "userId", "action", "liveMode", "sentFrom", "autoPayment", "extra"])
field_values = st.one_of(
    json_values,
    st.sampled_from(["location", "account", "sms", "email", "sms_and_email", "send_manually", "", "LOCATION"]),
    st.fixed_dictionaries({}, optional={"fromName": json_values, "fromEmail": st.text(max_size=5), "x": json_values}),
    st.fixed_dictionaries(
        {"enable": st.booleans()},
        optional={"type": st.text(max_size=5), "card": json_values, "provider": json_values, "cardId": json_values},
    ),
)


def mostly(valid: Any, hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The valid value two times in three: a request with one or two hostile parts is the interesting one."""
    return st.integers(0, 2).flatmap(lambda n: hostile if n == 0 else st.just(valid))


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["valid", "mutated", "mutated", "json", "raw", "empty", "deep"]))
    if kind == "raw":
        return draw(st.binary(max_size=40))
    if kind == "empty":
        return b""
    if kind == "deep":
        return b"[" * 100_000 + b"]" * 100_000
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    body: dict[str, Any] = send_body(action=draw(st.sampled_from(["sms", "email", "sms_and_email", "send_manually"])))
    if kind == "valid":
        return json.dumps(body).encode()
    for name in draw(st.lists(fields, min_size=1, max_size=3)):
        if draw(st.booleans()):
            body.pop(name, None)
        else:
            body[name] = draw(field_values)
    text = json.dumps(body)
    encodings = [
        text.encode(),
        text.encode(),
        text.encode("utf-16"),
        b"\xef\xbb\xbf" + text.encode(),
        text[:-1].encode(),
    ]
    return draw(st.sampled_from(encodings))


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    parts = (
        ("Authorization", mostly(f"Bearer {DEFAULT_TOKEN}", authorizations)),
        ("Version", mostly("2021-07-28", versions)),
        ("Content-Type", mostly("application/json", content_types)),
    )
    for name, strategy in parts:
        value = draw(strategy)
        if value is not None:
            headers.append((name, value))
            if draw(st.integers(0, 9)) == 0:  # a repeated header
                headers.append((name, draw(strategy) or ""))
    return draw(st.permutations(headers))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    invoice_id=mostly(DRAFT_INVOICE_ID, invoice_ids),
    headers=header_lists(),
    body=bodies(),
    query=st.sampled_from(["", "", "a=1", "invoiceId=x"]),
)
def test_compiled_checks_answer_like_openapi_core(
    invoice_id: str, headers: list[tuple[str, str]], body: bytes, query: str
) -> None:
    assert_same_verdict(make_request(invoice_id, headers, query), body)


query_parts = st.one_of(
    st.sampled_from(
        [
            "altId=6578278e879ad2646715ba9c",
            "altId=",
            "altId",
            "altType=location",
            "altType=account",
            "altType=LOCATION",
            "altType=",
            "altId=a%20b",
            "altId=%FF",
            "x=1",
            "altType=location&altType=agency",
            "altId=a&altId=",
            "altType=account&altType=location",
        ]
    ),
    st.builds("{}={}".format, st.sampled_from(["altId", "altType", "other"]), st.text(max_size=6).map(quote)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    invoice_id=mostly(DRAFT_INVOICE_ID, invoice_ids),
    authorization=mostly(f"Bearer {DEFAULT_TOKEN}", authorizations),
    version=mostly("2021-07-28", versions),
    query=mostly(["altId=6578278e879ad2646715ba9c", "altType=location"], st.lists(query_parts, max_size=4)),
    body=st.sampled_from([b"", b"", b"{}", b"\xff"]),
)
def test_compiled_checks_of_the_get_answer_like_openapi_core(
    invoice_id: str, authorization: str | None, version: str | None, query: list[str], body: bytes
) -> None:
    headers = [
        (name, value) for name, value in (("Authorization", authorization), ("Version", version)) if value is not None
    ]
    request = make_request(invoice_id, headers, "&".join(query), method="GET")

    assert GET_VALIDATOR.check(request, body) == GET_VALIDATOR.check_with_openapi_core(request, body)


def test_a_valid_get_is_decided_by_the_compiled_path() -> None:
    headers = [("Authorization", f"Bearer {DEFAULT_TOKEN}"), ("Version", "2021-07-28")]
    request = make_request(DRAFT_INVOICE_ID, headers, f"altId={DRAFT_INVOICE_ID}&altType=location", method="GET")

    compiled = GET_VALIDATOR._check_compiled(request, b"")

    assert compiled is not None
    assert compiled == GET_VALIDATOR.check_with_openapi_core(request, b"")
    assert (compiled.token, compiled.messages, compiled.invoice_id, compiled.body) == (
        DEFAULT_TOKEN,
        [],
        DRAFT_INVOICE_ID,
        None,
    )


# -- the compiled path really decides the common cases ---------------------------------------------

GOOD_HEADERS = [
    ("Authorization", f"Bearer {DEFAULT_TOKEN}"),
    ("Version", "2021-07-28"),
    ("Content-Type", "application/json"),
]


@pytest.mark.parametrize(
    "body",
    [
        send_body(),
        send_body(
            action="email",
            sentFrom={"fromName": "A"},
            autoPayment={"enable": True, "card": {"brand": "visa", "last4": "1"}},
        ),
        send_body(autoPayment={"enable": False, "provider": {"any": {"thing": [1, 2.5, None]}}}),
    ],
)
def test_a_valid_send_is_decided_by_the_compiled_path(body: dict[str, Any]) -> None:
    request, raw = make_request(DRAFT_INVOICE_ID, GOOD_HEADERS), json.dumps(body).encode()

    compiled = VALIDATOR._check_compiled(request, raw)

    assert compiled is not None
    assert (compiled.token, compiled.messages, compiled.invoice_id, compiled.body) == (
        DEFAULT_TOKEN,
        [],
        DRAFT_INVOICE_ID,
        body,
    )
    assert compiled == VALIDATOR.check_with_openapi_core(request, raw)


@pytest.mark.parametrize(
    "body",
    [
        {"altId": 3, "altType": "x", "extra": 1},
        send_body(liveMode="yes"),
        send_body(autoPayment={"card": {"brand": 1}}),
        [],
        "text",
    ],
)
def test_a_body_breaking_the_schema_is_decided_by_the_compiled_path(body: Any) -> None:
    request, raw = make_request(DRAFT_INVOICE_ID, GOOD_HEADERS), json.dumps(body).encode()

    compiled = VALIDATOR._check_compiled(request, raw)

    assert compiled is not None
    assert compiled.messages
    assert compiled == VALIDATOR.check_with_openapi_core(request, raw)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ([("Authorization", f"Bearer {DEFAULT_TOKEN}"), ("Content-Type", "application/json")], send_body()),
        ([*GOOD_HEADERS[:2], ("Content-Type", "text/plain")], send_body()),
        ([*GOOD_HEADERS[:2], ("Content-Type", "application/json; charset=utf-8")], send_body()),
        ([("Authorization", f"Bearer {DEFAULT_TOKEN}"), ("Version", "v4"), GOOD_HEADERS[2]], send_body()),
    ],
)
def test_other_requests_are_left_to_openapi_core(headers: list[tuple[str, str]], body: dict[str, Any]) -> None:
    request, raw = make_request(DRAFT_INVOICE_ID, headers), json.dumps(body).encode()

    assert VALIDATOR._check_compiled(request, raw) is None
    assert_same_verdict(request, raw)


@pytest.mark.parametrize("content_type", [None, *ODD_CONTENT_TYPES])
def test_every_odd_content_type_of_a_valid_send(content_type: str | None) -> None:
    headers = GOOD_HEADERS[:2] + ([] if content_type is None else [("Content-Type", content_type)])

    assert_same_verdict(make_request(DRAFT_INVOICE_ID, headers), json.dumps(send_body()).encode())


def test_unreadable_and_deep_json_are_left_to_openapi_core() -> None:
    request = make_request(DRAFT_INVOICE_ID, GOOD_HEADERS)

    for raw in (b"{", b"\xff", b"[" * 100_000 + b"]" * 100_000):
        assert_same_verdict(request, raw)
    assert VALIDATOR.check(request, b"[" * 100_000).messages[-1] == "body: JSON nested too deeply to read"
