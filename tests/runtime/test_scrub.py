"""`_runtime/scrub.py`: a token a server echoes back (in an error answer's body, headers or reason
phrase, or in a failure's message) is taken out of everything the client builds from it, whatever
the token's length; a 2xx is returned as sent. The transport scrubs every answer, so most tests drive
a send or a read; the last drives TokenScrub itself.

Each test names the defect it guards (issue 10 §1 and §7); all fail on the code before the fix
(bca5469^): it left echoed tokens in str(exc), args and pickles, and scrubbed only tokens of 16+
characters.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import pickle
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import LOGGER_NAME, APIStatusError, LeadwayError
from leadway_invoices_client._runtime.scrub import TokenScrub
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models.alt_type import AltType

from tests.mock_api import (
    BASE_URL,
    INVOICE_ID,
    SUCCESS_BODY,
    TOKEN,
    Reply,
    Send,
    Server,
    json_response,
    mock_client,
    request_body,
)

from .traces import everything, framed, leaks, texts_of

# --- A server echoing the token -------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500, 502, 418, 200])
def test_a_server_echoing_the_token_leaves_no_trace_in_the_error(send: Send, status: int) -> None:
    # Old code: str(exc) quoted the echoed token, and a pickled error carried the request's
    # Authorization header (the request kept it after it was sent).
    body = {"statusCode": status, "message": f"token {TOKEN} is bad", "invoice": "x"}
    echo = json_response(status, body, {"X-Echo": f"Bearer {TOKEN}"})
    with pytest.raises(LeadwayError) as caught:
        send(Server(echo).client(retry=None))
    error = caught.value
    assert leaks(error, TOKEN) == []
    for carried in (copy.copy(error), copy.deepcopy(error), pickle.loads(pickle.dumps(error))):
        assert leaks(carried, TOKEN) == []
    assert error.response is not None
    assert TOKEN.encode() not in error.response.content
    assert "authorization" not in error.response.request.headers
    assert TOKEN not in str(error.response.headers)


def test_a_transport_failure_quoting_the_token_is_scrubbed(send: Send) -> None:
    server = Server(httpx.ReadError(f"peer said: Bearer {TOKEN} rejected"))
    with pytest.raises(LeadwayError) as caught:
        send(server.client())
    assert leaks(caught.value, TOKEN) == []


# --- Every error kind under every auth configuration ----------------------------------------------
# A sweep: the token shows in no str, repr, args, traceback (with its causes), pickle, log record or
# request an error carries.

SECRET = "s3cr3t-7f0c2d9e41b8"
NEW_SECRET = "n3w-s3cr3t-55aa0e1c"

AUTH: dict[str, dict[str, Any]] = {
    "bearer": {"token": SECRET},
    "custom-header": {"token": SECRET, "auth_header_name": "X-Api-Key", "prefix": ""},
    "custom-prefix": {"token": SECRET, "prefix": "Token"},
    "provider": {"token_provider": lambda refresh: NEW_SECRET if refresh else SECRET},
}


def _echo(status: int, token: str) -> httpx.Response:
    body = {"statusCode": status, "message": [f"bad {token}", "x"], "error": token}
    return json_response(status, body, {"WWW-Authenticate": f'Bearer error="{token}"'})


# Each reply echoes the token of the request it answers, as a careless server would.
REPLIES: dict[str, list[Any]] = {
    **{str(status): [lambda t, s=status: _echo(s, t)] for status in (400, 401, 403, 404, 422, 429, 500, 503, 418, 302)},
    "401-then-500": [lambda t: _echo(401, t), lambda t: _echo(500, t)],
    "html-500": [lambda t: httpx.Response(500, content=f"<html>{t}</html>".encode())],
    "contract-200": [lambda t: json_response(200, {"invoice": t})],
    "read-timeout": [lambda t: httpx.ReadTimeout(f"timed out reading for {t}")],
    "connect": [lambda t: httpx.ConnectError(f"refused {t}")],
    "dropped": [lambda t: httpx.RemoteProtocolError(f"peer closed; last header Authorization: Bearer {t}")],
}


class EchoServer:
    def __init__(self, replies: list[Any], header: str, prefix: str) -> None:
        self.replies, self.header, self.prefix, self.sends = replies, header, prefix, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        value = request.headers[self.header]
        token = value.removeprefix(f"{self.prefix} ") if self.prefix else value
        reply: Reply = self.replies[min(self.sends, len(self.replies) - 1)](token)
        self.sends += 1
        if isinstance(reply, Exception):
            raise reply
        return reply


@pytest.mark.parametrize("auth", list(AUTH), ids=list(AUTH))
@pytest.mark.parametrize("reply", list(REPLIES), ids=list(REPLIES))
def test_no_error_carries_the_token_anywhere(
    mode: str, auth: str, reply: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    options = AUTH[auth]
    server = EchoServer(
        REPLIES[reply], options.get("auth_header_name", "Authorization"), options.get("prefix", "Bearer")
    )
    client = mock_client(server, retry=None, **options)

    def call() -> object:
        if mode == "sync":
            return send_invoice.sync(INVOICE_ID, client=client, body=request_body())
        return asyncio.run(send_invoice.asyncio(INVOICE_ID, client=client, body=request_body()))

    with pytest.raises(LeadwayError) as caught:
        call()
    assert server.sends >= 1
    texts = texts_of(caught.value)
    texts["logs"] = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (SECRET, NEW_SECRET):
        leaks = [where for where, text in texts.items() if secret in text]
        assert leaks == [], f"{secret} in {leaks}"


# --- Tokens of any length (1 to 15 characters included) -------------------------------------------
# The old code scrubbed only tokens of 16+ characters, so a short (test or misconfigured) token that
# a server echoed in an error reached str(exc), args, pickles and logs. The echo is framed with
# `<<`/`>>`: a token as short as "a" is in any text, but `<<a>>` is only where the server put it.

VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
JSONISH = ['"a"', "a", "1", "e", "0", '"', "\\", ":", ",", "{", "}", "[", "]", "/", "null", "true", "message"]
REGEXISH = [".*", "[a-z]+", "(", "$", "^", "|", "?", "+", "\\d", "%s", "{0}", "\\u0061", "[REDACTED]", "E", "D]"]
SHORT_TOKENS = st.one_of(st.text(VISIBLE, min_size=1, max_size=15), st.sampled_from(JSONISH + REGEXISH))


def _echo_body(token: str, status: int, slashes: bool = False) -> httpx.Response:
    body = json.dumps({"statusCode": status, "message": [f"bad {framed(token)}", "x"], "error": framed(token)})
    if slashes:  # as PHP encodes JSON: every `/` escaped
        body = body.replace("/", "\\/")
    return httpx.Response(
        status,
        content=body.encode(),
        headers={"Content-Type": "application/json", "WWW-Authenticate": f'Bearer error="{framed(token)}"'},
        extensions={"reason_phrase": f"No {framed(token)}".encode()},
    )


ECHOES: dict[str, Any] = {
    **{f"{s}": lambda t, s=s: _echo_body(t, s) for s in (400, 401, 403, 404, 422, 429, 500, 503, 418, 302)},
    "500-php-slashes": lambda t: _echo_body(t, 500, slashes=True),
    "403-unicode-escapes": lambda t: httpx.Response(  # every character of the token as \u00XX
        403, content=('{"message": "<<' + "".join(f"\\u{ord(c):04x}" for c in t) + '>>"}').encode()
    ),
    "html-502": lambda t: httpx.Response(502, content=f"<html>{framed(t)}</html>".encode()),
    "contract-200": lambda t: json_response(200, {"invoice": framed(t)}),
    "not-json-200": lambda t: httpx.Response(200, content=f"oops {framed(t)}".encode()),
    "read-timeout": lambda t: httpx.ReadTimeout(f"timed out reading for {framed(t)}"),
    "connect": lambda t: httpx.ConnectError(f"refused {framed(t)}"),
    "dropped": lambda t: httpx.RemoteProtocolError(f"peer closed; Authorization: Bearer {framed(t)}"),
}


def _forms(token: str) -> list[str]:
    """The framed echo as it may be written: plain, JSON-escaped, and with PHP's escaped slashes."""
    escaped = json.dumps(token)[1:-1]
    return sorted({framed(token), framed(escaped), framed(escaped.replace("/", "\\/"))})


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class _Records(logging.Handler):
    """Keeps the package's records (caplog is per test, not per hypothesis example)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=300, deadline=None)
@given(
    token=SHORT_TOKENS,
    echo=st.sampled_from(sorted(ECHOES)),
    mode=st.sampled_from(["sync", "async"]),
    operation=st.sampled_from(["send", "get"]),
)
def test_a_token_of_any_length_echoed_in_an_error_leaves_no_trace(
    token: str, echo: str, mode: str, operation: str
) -> None:
    handler = _Records()
    records = handler.records
    package = logging.getLogger(LOGGER_NAME)
    level = package.level
    package.addHandler(handler)
    package.setLevel(logging.DEBUG)
    try:
        server = EchoServer([ECHOES[echo]], "Authorization", "Bearer")
        client = mock_client(server, token=token, retry=None)

        def call() -> object:
            if operation == "get":  # a read gets the same scrub (the transport's, for every method)
                location = AltType.LOCATION
                if mode == "sync":
                    return get_invoice.sync(INVOICE_ID, client=client, alt_id=INVOICE_ID, alt_type=location)
                return asyncio.run(get_invoice.asyncio(INVOICE_ID, client=client, alt_id=INVOICE_ID, alt_type=location))
            if mode == "sync":
                return send_invoice.sync(INVOICE_ID, client=client, body=request_body())
            return asyncio.run(send_invoice.asyncio(INVOICE_ID, client=client, body=request_body()))

        with pytest.raises(LeadwayError) as caught:
            call()
    finally:
        package.removeHandler(handler)
        package.setLevel(level)
    error = caught.value
    texts = everything(error)
    texts["logs"] = "\n".join(record.getMessage() for record in records)
    leaks = [where for where, text in texts.items() for form in _forms(token) if form in text]
    assert leaks == [], f"{token!r} echoed by {echo} shows in {sorted(set(leaks))}"
    if error.response is not None:
        # Nothing of the token is left in the body the error carries: raw, escaped or decoded.
        content = error.response.content
        assert token.encode() not in content
        try:
            decoded = json.loads(content)
        except ValueError:
            decoded = None
        assert all(token not in s for s in _strings(decoded))


def test_the_replacement_is_obvious() -> None:
    server = EchoServer([lambda t: _echo_body(t, 400)], "Authorization", "Bearer")
    with pytest.raises(APIStatusError) as caught:
        send_invoice.sync(INVOICE_ID, client=mock_client(server, token="abc", retry=None), body=request_body())
    assert str(caught.value).endswith("400 Bad Request: bad <<[REDACTED]>>; x")
    assert caught.value.response.headers["WWW-Authenticate"] == 'Bearer error="<<[REDACTED]>>"'


@pytest.mark.parametrize("token", ["a", "e", "1", '"', "abc", "s3cr3t-7f0c2d9e41b8-long"])
def test_a_success_echoing_the_token_is_returned_unaltered(send_detailed: Any, send: Any, token: str) -> None:
    # The old code rewrote a 2xx body that held a 16+ character token; the answer is the customer's
    # invoice, read from the very bytes the server sent.
    body = json.loads(json.dumps(SUCCESS_BODY))
    body["invoice"]["name"] = f"invoice for {token}"
    raw = json.dumps(body).encode()
    client = mock_client(lambda request: httpx.Response(200, content=raw), token=token)
    assert send_detailed(client).content == raw
    assert send(client).invoice.raw["name"] == f"invoice for {token}"


# --- TokenScrub itself ----------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    token=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=15),
    parts=st.lists(st.text(st.sampled_from('ab1e"\\/[]<>DERACT {}:,'), max_size=6), max_size=6),
)
def test_a_scrubbed_answer_holds_the_token_nowhere(token: str, parts: list[str]) -> None:
    # Any text around the token, the marker's own letters and brackets included: the replacement
    # can neither hold the token nor complete it with its neighbours. The old code left tokens
    # under 16 characters in place.
    text = token.join(parts) + token
    request = httpx.Request("POST", f"{BASE_URL}/invoices/{INVOICE_ID}/send")
    echo = httpx.Response(
        400,
        content=json.dumps({"message": text}).encode(),
        headers={"X-Echo": text.replace('"', "'")},
        request=request,
    )
    clean = TokenScrub(token).response(echo, request)
    assert token.encode() not in clean.content
    try:  # the token may have been part of the JSON's syntax ("m" of "message", `:`): then it is gone
        decoded = json.loads(clean.content)
    except ValueError:
        decoded = {}
    assert all(token not in key and token not in value for key, value in decoded.items())
    assert token not in clean.headers["X-Echo"]  # (Content-Length is httpx's own, counted anew)


@pytest.mark.parametrize(
    ("token", "marker"),
    [("abc", "[REDACTED]"), ("[REDACTED]", "<REDACTED>"), ("x]", "<REDACTED>"), ("<a>[b]", " REDACTED ")],
)
def test_the_marker_can_neither_hold_the_token_nor_complete_it(token: str, marker: str) -> None:
    request = httpx.Request("POST", f"{BASE_URL}/invoices/{INVOICE_ID}/send")
    answer = httpx.Response(400, content=f"bad {token}!".encode(), request=request)

    assert TokenScrub(token).response(answer, request).content == f"bad {marker}!".encode()


def test_what_holds_no_trace_of_the_token_is_returned_as_it_is() -> None:
    request = httpx.Request("POST", f"{BASE_URL}/invoices/{INVOICE_ID}/send")
    answer = json_response(400, {"message": "nope"})
    escaped = httpx.Response(400, content=b'{"message": "\\u0061 \\u002f"}')  # decoded to look: still no token
    failure = httpx.ReadTimeout("timed out", request=request)
    scrub = TokenScrub(TOKEN)

    assert scrub.response(answer, request) is answer
    assert scrub.response(escaped, request) is escaped
    assert scrub.error(failure, request) is failure
    assert TOKEN not in repr(scrub)
    cleaned = scrub.error(httpx.ReadTimeout(f"timed out for {TOKEN}", request=request), request)
    assert (type(cleaned), str(cleaned)) == (httpx.ReadTimeout, "timed out for [REDACTED]")
