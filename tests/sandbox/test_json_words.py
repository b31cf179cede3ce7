"""`scripts/sandbox/json_words.py`: the sandbox's messages quote values in JSON, never in Python.

The property: whatever a request holds, no message the sandbox answers with says `None`, `True`,
`False`, `dict`, `str` (Python's words) or quotes with `'` (Python's repr) outside the JSON strings it
quotes from the request itself.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.project import SEND_PATH
from scripts.sandbox import DRAFT_INVOICE_ID, MAX_SLOW_SECONDS
from scripts.sandbox.config import SPEC_PATH
from scripts.sandbox.faults import FaultError, parse_fault
from scripts.sandbox.json_words import MAX_QUOTED, json_text
from scripts.sandbox.validation import OperationValidator
from tests.sandbox.conftest import send_body
from tests.sandbox.test_validation_equivalence import GET_VALIDATOR, GOOD_HEADERS, make_request

VALIDATOR = OperationValidator(SPEC_PATH, SEND_PATH, "post")

# A JSON string as json_text writes it, whole or cut (ending in `…`): what a request itself put there.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*(?:"|…$)')
_PYTHON_WORDS = re.compile(r"\b(None|True|False|NoneType|dict|list|str|int|float|bool|bytes)\b|'")


def python_words(message: str) -> list[str]:
    """The Python words and repr quotes in `message` outside the JSON strings it quotes."""
    return [match.group(0) for match in _PYTHON_WORDS.finditer(_QUOTED.sub('""', message))]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        ({"a": [1, None]}, '{"a": [1, null]}'),
        ("v3", '"v3"'),
        ("it's", '"it\'s"'),
        ("é\n", '"\\u00e9\\n"'),
        (1.5, "1.5"),
    ],
)
def test_values_are_quoted_in_json(value: Any, text: str) -> None:
    assert json_text(value) == text


def test_a_long_value_is_cut() -> None:
    text = json_text("x" * 500)
    assert len(text) == MAX_QUOTED
    assert text.startswith('"xxx')
    assert text.endswith("…")


def test_the_checker_finds_python_words_and_skips_quoted_ones() -> None:
    assert python_words("body.sentFrom: None is not of type 'object'") == ["None", "'", "'"]
    assert python_words('body.action: "None" is not one of ["email"]') == []
    assert python_words("body: \"True it's" + "x" * 90 + "…") == []


# -- every message of every request ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["altId", "altType", "userId", "action", "liveMode", "sentFrom", "autoPayment", "extra"])


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A send body with some fields replaced by any JSON value, or any JSON value, or broken JSON."""
    kind = draw(st.sampled_from(["fields", "any", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=20))
    if kind == "any":
        return json.dumps(draw(json_values)).encode()
    body: dict[str, Any] = send_body()
    for name, value in draw(st.dictionaries(fields, json_values, max_size=4)).items():
        body[name] = value
    for name in draw(st.lists(fields, max_size=2)):
        body.pop(name, None)
    return json.dumps(body).encode()


versions = st.one_of(
    st.none(), st.sampled_from(["2021-07-28", "v3", "2023-02-21", "None", "True", "v4", ""]), st.text(max_size=10)
)
invoice_ids = st.sampled_from([DRAFT_INVOICE_ID, "abc", "None", "%2e%2e", "x" * 30])
latin1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12)
content_types = st.one_of(
    st.sampled_from(
        [None, "application/json", "text/plain", "application/json; charset", "None", "application/json; None"]
    ),
    latin1,
)


def _headers(version: str | None, content_type: str | None) -> list[tuple[str, str]]:
    headers = [GOOD_HEADERS[0]]
    if version is not None:
        headers.append(("Version", version.encode("latin-1", "replace").decode("latin-1")))
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return headers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoice_id=invoice_ids, version=versions, content_type=content_types, body=bodies())
def test_no_send_message_speaks_python(
    invoice_id: str, version: str | None, content_type: str | None, body: bytes
) -> None:
    request = make_request(invoice_id, _headers(version, content_type))
    for checked in (VALIDATOR.check(request, body), VALIDATOR.check_with_openapi_core(request, body)):
        for message in checked.messages:
            assert python_words(message) == [], message


@settings(max_examples=100, deadline=None)
@given(
    invoice_id=invoice_ids,
    version=versions,
    alt_id=st.none() | latin1,
    alt_type=st.none() | st.sampled_from(["location", "account", "None", "True", ""]) | latin1,
)
def test_no_read_message_speaks_python(
    invoice_id: str, version: str | None, alt_id: str | None, alt_type: str | None
) -> None:
    query = urlencode([(k, v) for k, v in (("altId", alt_id), ("altType", alt_type)) if v is not None])
    request = make_request(invoice_id, _headers(version, None), query=query, method="GET")
    for checked in (GET_VALIDATOR.check(request, b""), GET_VALIDATOR.check_with_openapi_core(request, b"")):
        for message in checked.messages:
            assert python_words(message) == [], message


@given(value=st.one_of(latin1, st.sampled_from(["None", "slow:None", "slow:True", "slow:", "rate-limit:1"])))
def test_no_fault_message_speaks_python(value: str) -> None:
    messages: list[str] = []
    try:
        parse_fault(value, MAX_SLOW_SECONDS)
    except FaultError as exc:
        messages.append(str(exc))
    assert [python_words(message) for message in messages] == [[] for _ in messages], messages


def test_a_null_field_is_named_in_json() -> None:
    # What upstream's Python SDK sends when its request model is dumped whole (`sentFrom: None`).
    body = json.dumps(send_body(sentFrom=None, liveMode=True, userId=False)).encode()
    checked = VALIDATOR.check(make_request(DRAFT_INVOICE_ID, [*GOOD_HEADERS]), body)
    assert checked.messages == [
        'body.userId: false is not of type "string"',
        'body.sentFrom: null is not of type "object"',
    ]
