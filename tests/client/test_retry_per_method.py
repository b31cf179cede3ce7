"""Issue 11 §2: the retry policy is decided per method in one place (_runtime/retry.py). A send (POST) is
retried only after a 429 or a failure that provably sent nothing; a read (GET) also after a read
timeout, a dropped connection and 502/503/504, bounded by attempts and max_wait. The GET tests fail
on the old code (one policy for every method: 429 and connect failures)."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import httpx
import pytest
from leadway_invoices_client import DEFAULT_API_VERSION, AuthenticatedClient, RetryPolicy, __version__

from .conftest import BASE_URL, TOKEN, Server, json_response

POLICY = RetryPolicy(attempts=3, max_wait=0.01, backoff=0.001)
MAYBE_SENT = [
    httpx.ReadTimeout("read timed out"),
    httpx.RemoteProtocolError("peer closed connection"),
    httpx.ReadError("connection reset"),
]
NOT_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.UnsupportedProtocol("ftp?")]


def _call(server: Server, method: str) -> httpx.Response:
    return server.client(retry=POLICY).get_httpx_client().request(method, "/invoices/x")


@pytest.mark.parametrize("failure", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_a_get_is_retried_after_a_failure_that_may_have_reached_the_server(failure: Exception) -> None:
    server = Server(failure, json_response(200, {}))
    assert _call(server, "GET").status_code == 200
    assert server.sends == 2


@pytest.mark.parametrize("failure", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_a_post_is_never_retried_after_a_failure_that_may_have_reached_the_server(failure: Exception) -> None:
    server = Server(failure, json_response(200, {}))
    with pytest.raises(type(failure)):
        _call(server, "POST")
    assert server.sends == 1


@pytest.mark.parametrize("failure", NOT_SENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_failures_that_sent_nothing_are_retried_for_every_method(failure: Exception, method: str) -> None:
    server = Server(failure, json_response(200, {}))
    assert _call(server, method).status_code == 200
    assert server.sends == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_get_is_retried_after_a_gateway_error_within_the_attempts(status: int) -> None:
    server = Server(json_response(status, {}))
    assert _call(server, "GET").status_code == status
    assert server.sends == POLICY.attempts


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_is_never_retried_after_a_5xx(status: int) -> None:
    server = Server(json_response(status, {}))
    assert _call(server, "POST").status_code == status
    assert server.sends == 1


def test_a_get_retry_waits_are_capped() -> None:
    server = Server(json_response(503, {}, {"Retry-After": "86400"}))
    started = time.monotonic()
    _call(server, "GET")
    assert server.sends == POLICY.attempts
    assert time.monotonic() - started < 5


def test_every_request_names_the_package_and_sends_the_clients_api_version() -> None:
    server = Server()
    server.client(api_version="2023-02-21").get_httpx_client().get("/invoices/x")
    server.client().get_httpx_client().get("/invoices/x")
    first, second = server.requests
    assert first.headers["User-Agent"].startswith(f"leadway-invoices-client/{__version__} python-httpx/")
    assert (first.headers["Version"], second.headers["Version"]) == ("2023-02-21", DEFAULT_API_VERSION)
    assert DEFAULT_API_VERSION == "2021-07-28"


def test_a_caller_may_replace_the_user_agent() -> None:
    server = Server()
    server.client(headers={"User-Agent": "mine/1"}).get_httpx_client().get("/x")
    assert server.requests[0].headers["User-Agent"] == "mine/1"


@pytest.mark.parametrize("version", ["", "v3\n", 3, "vé"])
def test_an_api_version_that_cannot_be_a_header_is_refused(version: object) -> None:
    with pytest.raises(ValueError, match="api_version"):
        AuthenticatedClient(BASE_URL, TOKEN, api_version=version)  # type: ignore[arg-type]


def test_the_version_is_the_installed_distributions() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == pyproject["project"]["version"]
